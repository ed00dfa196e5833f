/**
 * What each buildpack of the group left in `<layers>/<escaped id>/` for the exporter: its launch layers
 * (every `<layer>.toml` with `[types] launch = true`, sorted by `<bp-id>:<layer-name>`, with or without a
 * directory), its cached layers (`cache = true`, same order) and its store.toml. A layer directory without a `<layer>.toml` is not a launch layer; a
 * `<layer>.toml` that cannot be read fails the export, as in the Go lifecycle.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  formatProblem,
  type LayerMetadataFile,
  layerToml,
  layerTypes,
  parseSpec,
  storeToml,
} from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";

export interface GroupBuildpack {
  readonly id: string;
  readonly version: string;
  readonly api: string;
}

/** A layer the buildpack described in `<layer>.toml`. */
export interface BuildpackLayer {
  readonly name: string;
  /** `<bp-id>:<layer-name>`. */
  readonly identifier: string;
  /** `<layers>/<escaped bp id>/<name>`. */
  readonly path: string;
  /** Whether the directory is there (else a launch layer is reused from the previous image). */
  readonly hasContents: boolean;
  readonly metadata: LayerMetadataFile;
}

export interface BuildpackLayers {
  readonly buildpack: GroupBuildpack;
  readonly launchLayers: readonly BuildpackLayer[];
  /** Layers for the cache (`cache = true`), launch ones included. */
  readonly cachedLayers: readonly BuildpackLayer[];
  /** store.toml's `[metadata]` table when the file exists. */
  readonly store?: { readonly metadata: Record<string, unknown> };
}

/** `example/node` -> `example_node`, the buildpack's directory name under `<layers>`. */
export const escapeId = (id: string) => id.replaceAll("/", "_");

const NOT_LAYERS = new Set(["launch", "build", "store"]);

export async function readBuildpackLayers(
  layersDir: string,
  buildpack: GroupBuildpack,
): Promise<BuildpackLayers> {
  const dir = join(layersDir, escapeId(buildpack.id));
  let entries: { name: string; isDirectory(): boolean }[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return { buildpack, launchLayers: [], cachedLayers: [] };
    }
    throw err;
  }
  const names = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  const tomls = entries.filter((e) => !e.isDirectory() && e.name.endsWith(".toml")).map((e) => e.name);
  for (const toml of tomls) {
    const name = toml.slice(0, -".toml".length);
    if (!NOT_LAYERS.has(name)) names.add(name);
  }

  let store: BuildpackLayers["store"];
  if (tomls.includes("store.toml")) {
    const file = join(dir, "store.toml");
    const parsed = parseSpec(storeToml, await readFile(file, "utf8"), file);
    if (!parsed.ok) fail(`cannot read the store.toml of buildpack ${buildpack.id}: ${problems(parsed)}`);
    store = { metadata: parsed.value?.metadata ?? {} };
  }

  const layers: BuildpackLayer[] = [];
  const malformed: string[] = [];
  const identifierOf = (name: string) => `${buildpack.id}:${name}`;
  for (const name of [...names].sort((a, b) => byteOrder(identifierOf(a), identifierOf(b)))) {
    const path = join(dir, name);
    const metadata = await readLayerToml(`${path}.toml`, buildpack.api).catch((err: Error) => {
      malformed.push(`${identifierOf(name)} (${err.message})`);
      return undefined;
    });
    if (!metadata) continue;
    const types = layerTypes(metadata);
    if (!types.launch && !types.cache) continue;
    const hasContents = await stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    layers.push({ name, identifier: identifierOf(name), path, hasContents, metadata });
  }
  if (malformed.length > 0) fail(`failed to parse the metadata of layers ${malformed.join(", ")}`);
  return {
    buildpack,
    launchLayers: layers.filter((l) => layerTypes(l.metadata).launch),
    cachedLayers: layers.filter((l) => layerTypes(l.metadata).cache),
    ...(store ? { store } : {}),
  };
}

/** A `<layer>.toml`; a missing file is an empty one (a directory the buildpack did not describe). */
async function readLayerToml(file: string, buildpackApi: string): Promise<LayerMetadataFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  const parsed = parseSpec(layerToml, text, file, { buildpackApi });
  if (!parsed.ok) throw new Error(problems(parsed));
  return parsed.value as LayerMetadataFile;
}

function problems(parsed: { problems: readonly Parameters<typeof formatProblem>[0][] }): string {
  return parsed.problems
    .filter((p) => p.severity === "error")
    .map(formatProblem)
    .join("; ");
}

/** Byte order of UTF-8 strings, as Go sorts them. */
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function fail(message: string): never {
  throw new LifecycleError(ExitCode.export, `exporter: ${message}`);
}
