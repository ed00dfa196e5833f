/** Walking the app image's layers as the launcher does: buildpacks in metadata order, layers and files in name order. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { LaunchBuildpack } from "./metadata.js";

const byName = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Names of a dir's subdirectories (`dirs`) or of its other entries, sorted by bytes; none when it is missing. */
export async function entries(dir: string, kind: "dirs" | "files"): Promise<string[]> {
  try {
    const found = await readdir(dir, { withFileTypes: true });
    return found
      .filter((e) => e.isDirectory() === (kind === "dirs"))
      .map((e) => e.name)
      .sort(byName);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}

/** `<layers>/<escaped id>/<layer>` of every buildpack, in the order the launcher applies them. */
export async function launchLayers(layersDir: string, buildpacks: readonly LaunchBuildpack[]) {
  const layers: string[] = [];
  for (const bp of buildpacks) {
    const dir = join(layersDir, bp.id.replaceAll("/", "_"));
    for (const name of await entries(dir, "dirs")) layers.push(join(dir, name));
  }
  return layers;
}

/** The files of `<layer>/<sub>/` then of `<layer>/<sub>/<type>/`, per layer: exec.d programs and profile.d scripts. */
export async function layerFiles(layers: readonly string[], sub: string, type: string | undefined) {
  const files: string[] = [];
  for (const layer of layers) {
    for (const dir of type ? [join(layer, sub), join(layer, sub, type)] : [join(layer, sub)]) {
      for (const name of await entries(dir, "files")) files.push(join(dir, name));
    }
  }
  return files;
}
