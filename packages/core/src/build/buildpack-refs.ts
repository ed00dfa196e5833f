/**
 * What a buildpack (`--buildpack`, project.toml's group/pre/post) or extension (`--extension`) a build is
 * given points at, told apart as pack tells locators apart: `urn:cnb:builder:<id>[@<version>]` is one in the
 * builder; `docker://`, `http(s)://` and `file://` are sources; a bare value is a file or directory when one
 * is there, else an `<id>[@<version>]` the builder has, else an image reference that names its registry.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { ModuleKind } from "../authoring/module-layer.js";
import { CnbpError } from "../errors.js";

/** An inline buildpack's script (project.toml `script`): `bin/build` runs `inline` with `shell`. */
export interface InlineScript {
  readonly api: string;
  readonly inline: string;
  readonly shell?: string;
}

/** One buildpack or extension as the user gave it; `where` names the flag or project.toml field in messages. */
export type BuildpackSpec =
  /** A flag value or a project.toml `uri`: relative paths are relative to `baseDir`. */
  | { readonly where: string; readonly ref: string; readonly baseDir: string }
  /** project.toml's `id` (+ `version`): a buildpack in the builder. */
  | { readonly where: string; readonly id: string; readonly version?: string }
  | { readonly where: string; readonly id: string; readonly script: InlineScript };

/** What a spec comes to: a module the builder has, a source to read modules from, or an inline script. */
export type BuildpackRef =
  | { readonly kind: "builder"; readonly id: string; readonly version: string }
  | { readonly kind: "source"; readonly uri: string; readonly baseDir: string }
  | { readonly kind: "inline"; readonly id: string; readonly script: InlineScript };

/** The builder's modules of each kind: versions by id (`io.buildpacks.{buildpack,extension}.layers`). */
export type BuilderModules = Readonly<
  Record<ModuleKind, Readonly<Record<string, Readonly<Record<string, unknown>>>>>
>;

const BUILDER_URN = "urn:cnb:builder:";

/** What `spec`, given for a module of `kind`, points at; errors name `spec.where` and the value given. */
export async function classifyModule(
  spec: BuildpackSpec,
  kind: ModuleKind,
  builder: BuilderModules,
): Promise<BuildpackRef> {
  if ("script" in spec) return { kind: "inline", id: spec.id, script: spec.script };
  const lookup = { where: spec.where, kind, builder };
  if ("id" in spec) return inBuilder(lookup, spec.id, spec.version);
  const { ref, baseDir } = spec;
  if (ref.startsWith(BUILDER_URN)) {
    const [id = "", version] = splitId(ref.slice(BUILDER_URN.length));
    return inBuilder(lookup, id, version, ref);
  }
  if (ref.startsWith("urn:cnb:registry:"))
    throw notFound(lookup, ref, "cnbp cannot read the buildpack registry", [
      `give the ${packageName(kind)} as docker://<image>, or a directory or archive`,
    ]);
  if (/^(docker|https?|file):\/\//.test(ref)) return { kind: "source", uri: ref, baseDir };
  if (looksLikePath(ref) || (await exists(resolve(baseDir, ref))))
    return { kind: "source", uri: ref, baseDir };
  const [id = "", version] = splitId(ref);
  const layers = builder[kind];
  if (layers[id] || (version !== undefined && !version.startsWith("sha256:") && !namesRegistry(ref)))
    return inBuilder(lookup, id, version, ref);
  if (namesRegistry(ref)) return { kind: "source", uri: `docker://${ref}`, baseDir };
  if (builder[otherKind(kind)][id]) throw wrongKind(lookup, ref);
  throw notFound(lookup, ref, `no such file or directory, and the builder has no ${kind} ${ref}`, [
    `the builder has ${have(lookup)}`,
    `${article(packageName(kind))} image is docker://<image> (or an image name with its registry)`,
  ]);
}

/** Where a spec came from and what it should be, for the builder's modules and messages. */
interface Lookup {
  readonly where: string;
  readonly kind: ModuleKind;
  readonly builder: BuilderModules;
}

export const otherKind = (kind: ModuleKind): ModuleKind => (kind === "buildpack" ? "extension" : "buildpack");

/** What a kind's modules come packaged as: `buildpackage`, `extension package`. */
const packageName = (kind: ModuleKind) => (kind === "buildpack" ? "buildpackage" : "extension package");

const article = (noun: string) => `${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}`;

/** The flag that takes modules of a kind, for hints. */
const flagOf = (kind: ModuleKind) => `--${kind}`;

/** `<id>[@<version>]`. */
function splitId(text: string): [string, string | undefined] {
  const at = text.lastIndexOf("@");
  return at > 0 ? [text.slice(0, at), text.slice(at + 1)] : [text, undefined];
}

/** The builder's `<id>@<version>`; without a version, the one version it has. `ref`: as the user wrote it. */
function inBuilder(lookup: Lookup, id: string, version: string | undefined, ref?: string): BuildpackRef {
  const versions = Object.keys(lookup.builder[lookup.kind][id] ?? {});
  const shown = version === undefined ? id : `${id}@${version}`;
  if (version !== undefined && versions.includes(version)) return { kind: "builder", id, version };
  if (version === undefined && versions.length === 1)
    return { kind: "builder", id, version: versions[0] as string };
  if (versions.length > 1 && version === undefined)
    throw notFound(lookup, ref ?? shown, `the builder has ${versions.map((v) => `${id}@${v}`).join(", ")}`, [
      "give the version: <id>@<version>",
    ]);
  const other = Object.keys(lookup.builder[otherKind(lookup.kind)][id] ?? {});
  if (versions.length === 0 && (version === undefined ? other.length > 0 : other.includes(version)))
    throw wrongKind(lookup, ref ?? shown);
  throw notFound(lookup, ref ?? shown, `the builder has no ${lookup.kind} ${shown}`, [
    `the builder has ${have(lookup)}`,
  ]);
}

function have({ builder, kind }: Lookup): string {
  const all = Object.entries(builder[kind]).flatMap(([id, versions]) =>
    Object.keys(versions).map((v) => `${id}@${v}`),
  );
  return all.length ? all.sort().join(", ") : `no ${kind}s`;
}

/** `CNBP_BUILDPACK_<what>` or `CNBP_EXTENSION_<what>`. */
export const codeOf = (kind: ModuleKind, what: string) => `CNBP_${kind.toUpperCase()}_${what}` as const;

function notFound(lookup: Lookup, ref: string, why: string, hints: string[]): CnbpError {
  return new CnbpError(codeOf(lookup.kind, "NOT_FOUND"), `${lookup.where} ${JSON.stringify(ref)}: ${why}`, {
    hints,
  });
}

/** `--extension ex/app@1.0.0` when ex/app is one of the builder's buildpacks, and the other way round. */
const wrongKind = (lookup: Lookup, ref: string) =>
  moduleOfOtherKind(lookup.where, ref, lookup.kind, `names one of the builder's ${otherKind(lookup.kind)}s`);

/**
 * A spec that gives a module of the other kind; `what` says how (`holds buildpack ex/a@1.0.0`). The error
 * names the flag and the value, and which flag takes such modules.
 */
export function moduleOfOtherKind(where: string, ref: string, kind: ModuleKind, what: string): CnbpError {
  return new CnbpError(
    codeOf(kind, "INVALID"),
    `${where} ${JSON.stringify(ref)} ${what}, not ${article(kind)}`,
    {
      hints: [`give ${otherKind(kind)}s with ${flagOf(otherKind(kind))}`],
    },
  );
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
