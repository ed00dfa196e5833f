/**
 * One layer per buildpack or extension, at `/cnb/buildpacks/<escaped-id>/<version>/` (extensions under
 * `/cnb/extensions/`), as pack writes it (distribution.md 1): the `<escaped-id>` and `<version>` dirs, then
 * the module's files; root-owned, the CNB epoch as mtime, pack's modes (0755 for dirs and executables, else
 * 0644). The same module gives the same layer, byte for byte, in every builder and buildpackage.
 */
import { type LayerPart, type LayerResult, writeLayer } from "../image/index.js";

export type ModuleKind = "buildpack" | "extension";

/** Where modules of a kind live in a builder: `/cnb/buildpacks` or `/cnb/extensions`. */
export const moduleRoot = (kind: ModuleKind) =>
  kind === "buildpack" ? "/cnb/buildpacks" : "/cnb/extensions";

/** Ids in paths: `/` becomes `_`. */
export const escapeId = (id: string) => id.replaceAll("/", "_");

export function moduleDir(kind: ModuleKind, id: string, version: string): string {
  return `${moduleRoot(kind)}/${escapeId(id)}/${version}`;
}

/**
 * A module's entries in a layer: its `<escaped-id>` dir (left out when `idDir` is false: another version of
 * the id wrote it already), then `hostDir` as its `<version>` dir.
 */
export function moduleParts(
  kind: ModuleKind,
  id: string,
  version: string,
  hostDir: string,
  idDir = true,
): LayerPart[] {
  const root = { uid: 0, gid: 0 };
  return [
    ...(idDir
      ? [{ kind: "directory", path: `${moduleRoot(kind)}/${escapeId(id)}`, ...root, mode: 0o755 } as const]
      : []),
    {
      kind: "dir",
      hostDir,
      containerPath: moduleDir(kind, id, version),
      owner: root,
      parents: "none",
      modes: "module",
    },
  ];
}

export function writeModuleLayer(
  kind: ModuleKind,
  id: string,
  version: string,
  hostDir: string,
  to: string,
): Promise<LayerResult> {
  return writeLayer(moduleParts(kind, id, version, hostDir), to, { label: `${kind} ${id}@${version}` });
}
