/**
 * What a buildpack a build is given (`--buildpack`, project.toml's group/pre/post) points at, told apart as
 * pack tells locators apart: `urn:cnb:builder:<id>[@<version>]` is one in the builder; `docker://`,
 * `http(s)://` and `file://` are sources; a bare value is a file or directory when one is there, else an
 * `<id>[@<version>]` the builder has, else an image reference that names its registry.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { CnbpError } from "../errors.js";
import type { ModuleLayers } from "../spec/index.js";

/** An inline buildpack's script (project.toml `script`): `bin/build` runs `inline` with `shell`. */
export interface InlineScript {
  readonly api: string;
  readonly inline: string;
  readonly shell?: string;
}

/** One buildpack as the user gave it; `where` names the flag or project.toml field in messages. */
export type BuildpackSpec =
  /** A flag value or a project.toml `uri`: relative paths are relative to `baseDir`. */
  | { readonly where: string; readonly ref: string; readonly baseDir: string }
  /** project.toml's `id` (+ `version`): a buildpack in the builder. */
  | { readonly where: string; readonly id: string; readonly version?: string }
  | { readonly where: string; readonly id: string; readonly script: InlineScript };

/** What a spec comes to: a buildpack the builder has, a source to read modules from, or an inline script. */
export type BuildpackRef =
  | { readonly kind: "builder"; readonly id: string; readonly version: string }
  | { readonly kind: "source"; readonly uri: string; readonly baseDir: string }
  | { readonly kind: "inline"; readonly id: string; readonly script: InlineScript };

const BUILDER_URN = "urn:cnb:builder:";

export async function classifyBuildpack(spec: BuildpackSpec, layers: ModuleLayers): Promise<BuildpackRef> {
  if ("script" in spec) return { kind: "inline", id: spec.id, script: spec.script };
  if ("id" in spec) return inBuilder(spec.where, spec.id, spec.version, layers);
  const { ref, baseDir, where } = spec;
  if (ref.startsWith(BUILDER_URN)) {
    const [id = "", version] = splitId(ref.slice(BUILDER_URN.length));
    return inBuilder(where, id, version, layers);
  }
  if (ref.startsWith("urn:cnb:registry:"))
    throw notFound(where, ref, "cnbp cannot read the buildpack registry", [
      "give the buildpackage as docker://<image>, or a directory or archive",
    ]);
  if (/^(docker|https?|file):\/\//.test(ref)) return { kind: "source", uri: ref, baseDir };
  if (looksLikePath(ref) || (await exists(resolve(baseDir, ref))))
    return { kind: "source", uri: ref, baseDir };
  const [id = "", version] = splitId(ref);
  if (layers[id] || (version !== undefined && !version.startsWith("sha256:") && !namesRegistry(ref)))
    return inBuilder(where, id, version, layers);
  if (namesRegistry(ref)) return { kind: "source", uri: `docker://${ref}`, baseDir };
  throw notFound(where, ref, `no such file or directory, and the builder has no buildpack ${ref}`, [
    `the builder has ${have(layers)}`,
    "a buildpackage image is docker://<image> (or an image name with its registry)",
  ]);
}

/** `<id>[@<version>]`. */
function splitId(text: string): [string, string | undefined] {
  const at = text.lastIndexOf("@");
  return at > 0 ? [text.slice(0, at), text.slice(at + 1)] : [text, undefined];
}

/** The builder's `<id>@<version>`; without a version, the one version it has. */
function inBuilder(
  where: string,
  id: string,
  version: string | undefined,
  layers: ModuleLayers,
): BuildpackRef {
  const versions = Object.keys(layers[id] ?? {});
  const shown = version === undefined ? id : `${id}@${version}`;
  if (version !== undefined && versions.includes(version)) return { kind: "builder", id, version };
  if (version === undefined && versions.length === 1)
    return { kind: "builder", id, version: versions[0] as string };
  if (versions.length > 1 && version === undefined)
    throw notFound(where, shown, `the builder has ${versions.map((v) => `${id}@${v}`).join(", ")}`, [
      "give the version: <id>@<version>",
    ]);
  throw notFound(where, shown, `the builder has no buildpack ${shown}`, [`the builder has ${have(layers)}`]);
}

function have(layers: ModuleLayers): string {
  const all = Object.entries(layers).flatMap(([id, versions]) =>
    Object.keys(versions).map((v) => `${id}@${v}`),
  );
  return all.length ? all.sort().join(", ") : "no buildpacks";
}

function notFound(where: string, ref: string, why: string, hints: string[]): CnbpError {
  return new CnbpError("CNBP_BUILDPACK_NOT_FOUND", `${where} ${JSON.stringify(ref)}: ${why}`, { hints });
}

/** Relative or absolute paths and archive names are files even when missing (the error then says so). */
const looksLikePath = (ref: string) => /^(\.{1,2}\/|\/|~)/.test(ref) || /\.(tgz|tar|tar\.gz|cnb)$/.test(ref);

/** An image reference whose first part is a registry host (`localhost`, or with a `.` or `:`). */
function namesRegistry(ref: string): boolean {
  const slash = ref.indexOf("/");
  if (slash < 0) return false;
  const host = ref.slice(0, slash);
  return host === "localhost" || host.includes(".") || host.includes(":");
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
