/**
 * A buildpack's layers after its bin/build (shared/spec/buildpack.md 5 step 3, 7.1): every `<layer>.toml` in
 * its layers dir, read against its Buildpack API, in name order. A layer with no true type is ignored: its
 * directory becomes `<layer>.ignore/`, which later buildpacks, the exporter and the cache never see.
 */
import { lstat, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { type LayerMetadataFile, layerToml, layerTypes } from "@cnbp/core";
import type { Log } from "../log.js";
import { readBuildpackToml } from "./buildpack-files.js";
import { type BuildpackRef, buildpackError } from "./errors.js";

export interface BuiltLayer {
  readonly name: string;
  /** `<layers>/<escaped id>/<name>`. */
  readonly path: string;
  readonly types: { readonly launch: boolean; readonly build: boolean; readonly cache: boolean };
}

/** Metadata files of the buildpack, not layers: a layer of one of these names would share its `.toml`. */
const RESERVED = ["build", "launch", "store"];

/** Byte order, as Go sorts names. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export async function processLayers(
  bp: BuildpackRef & { readonly api: string },
  dir: string,
  log: Log,
): Promise<BuiltLayer[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.isDirectory() && RESERVED.includes(e.name)) {
      throw buildpackError(
        bp,
        `${join(dir, e.name)}: a layer cannot be named "${e.name}" (${e.name}.toml is the buildpack's ${e.name} metadata)`,
      );
    }
  }
  const names = entries
    .filter((e) => !e.isDirectory() && e.name.endsWith(".toml"))
    .map((e) => e.name.slice(0, -".toml".length))
    .filter((name) => !RESERVED.includes(name))
    .sort(byteOrder);

  const layers: BuiltLayer[] = [];
  for (const name of names) {
    const file = join(dir, `${name}.toml`);
    if (name === "" || name === "." || name === ".." || name.includes("/")) {
      throw buildpackError(
        bp,
        `${file}: ${JSON.stringify(name)} is not a layer name (not empty, ".", ".." or with "/")`,
      );
    }
    const metadata: LayerMetadataFile = (await readBuildpackToml(bp, layerToml, file, log)) ?? {};
    const path = join(dir, name);
    const types = layerTypes(metadata);
    if (!types.launch && !types.build && !types.cache) await ignoreLayer(path);
    layers.push({ name, path, types });
  }
  return layers;
}

/** `<layer>/` -> `<layer>.ignore/`, replacing one left by an earlier build in the same layers dir. */
async function ignoreLayer(path: string) {
  const found = await lstat(path).catch(() => undefined);
  if (!found) return;
  await rm(`${path}.ignore`, { recursive: true, force: true });
  await rename(path, `${path}.ignore`);
}
