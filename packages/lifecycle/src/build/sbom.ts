/**
 * SBOM files a buildpack writes next to its layers (shared/spec/buildpack.md 9): `<layer>.sbom.<ext>`,
 * `launch.sbom.<ext>` and `build.sbom.<ext>`. Each must be a known format its buildpack.toml declares in
 * `sbom-formats`; after the group they are copied under `<layers>/sbom/{launch,build,cache}/<escaped id>/`.
 */
import { chown, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { escapeId } from "../modules/store.js";
import { readBuildpackFile } from "./buildpack-files.js";
import { type BuildpackRef, buildpackError } from "./errors.js";
import type { BuiltLayer } from "./layers.js";

/** SBOM file extensions and their media types. */
const FORMATS: Readonly<Record<string, string>> = {
  "cdx.json": "application/vnd.cyclonedx+json",
  "spdx.json": "application/spdx+json",
  "syft.json": "application/vnd.syft+json",
};

/** One SBOM file and where it goes: `<layers>/sbom/<kind>/<escaped id>/[<layer>/]sbom.<ext>`. */
export interface SbomFile {
  readonly buildpack: BuildpackRef;
  readonly source: string;
  /** Relative to `<layers>/sbom/`. */
  readonly destinations: readonly string[];
}

/**
 * The buildpack's SBOM files, checked against its `sbom-formats`. An SBOM of a layer without `<layer>.toml`
 * has nowhere to go: it is left out with a warning.
 */
export async function collectSboms(
  bp: BuildpackRef & { readonly sbomFormats: readonly string[]; readonly descriptorPath: string },
  dir: string,
  layers: readonly BuiltLayer[],
  warn: (message: string) => void,
): Promise<SbomFile[]> {
  const declared = new Set(bp.sbomFormats.map((f) => (f.split(";")[0] ?? "").trim().toLowerCase()));
  const files: SbomFile[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const match = /^(.+)\.sbom\.(.+)$/.exec(name);
    if (!match) continue;
    const [, owner = "", ext = ""] = match;
    const source = join(dir, name);
    const mediaType = FORMATS[ext];
    if (!mediaType) {
      throw buildpackError(
        bp,
        `${source}: unknown SBOM format ".sbom.${ext}" (SBOM files end in .sbom.cdx.json, .sbom.spdx.json or .sbom.syft.json)`,
      );
    }
    if (!declared.has(mediaType)) {
      throw buildpackError(
        bp,
        `${source}: SBOM media type ${mediaType} is not declared in sbom-formats of ${bp.descriptorPath}`,
      );
    }
    const at = (kind: string, ...layer: string[]) => join(kind, escapeId(bp.id), ...layer, `sbom.${ext}`);
    if (owner === "launch" || owner === "build") {
      files.push({ buildpack: bp, source, destinations: [at(owner)] });
      continue;
    }
    const layer = layers.find((l) => l.name === owner);
    if (!layer) {
      warn(`buildpack ${bp.id}@${bp.version}: ${source}: no layer ${owner} (${owner}.toml): SBOM not used`);
      continue;
    }
    files.push({
      buildpack: bp,
      source,
      destinations: [
        at(layer.types.launch ? "launch" : "build", owner),
        ...(layer.types.cache ? [at("cache", owner)] : []),
      ],
    });
  }
  return files;
}

/** Copies the SBOM files of the group into `<layers>/sbom/`, owned by `owner` when given. */
export async function placeSboms(
  layersDir: string,
  files: readonly SbomFile[],
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  const root = join(layersDir, "sbom");
  for (const file of files) {
    const bytes = await readBuildpackFile(file.source).catch((err: Error) => {
      throw buildpackError(file.buildpack, err.message);
    });
    if (bytes === undefined)
      throw buildpackError(file.buildpack, `${file.source}: gone before it was copied`);
    for (const destination of file.destinations) {
      const to = join(root, destination);
      await mkdirOwned(dirname(to), owner);
      await writeFile(to, bytes);
      if (owner) await chown(to, owner.uid, owner.gid);
    }
  }
}

/** `mkdir -p`, every directory it makes given to `owner` when there is one. */
export async function mkdirOwned(dir: string, owner: { uid: number; gid: number } | undefined) {
  const first = await mkdir(dir, { recursive: true });
  if (!owner || !first) return;
  for (let d = dir; ; d = dirname(d)) {
    await chown(d, owner.uid, owner.gid);
    if (d === first) break;
  }
}
