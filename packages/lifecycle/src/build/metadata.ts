/**
 * The builder's outputs for the exporter and the launcher: `<layers>/config/metadata.toml` (files.md 1.7; the
 * command always an array, as Platform API >= 0.10 wants) and the legacy BOMs in `<layers>/sbom/{launch,build}/
 * sbom.legacy.json` (Platform API >= 0.9), written only when some buildpack wrote `[[bom]]`.
 */
import { chown, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BuildMetadataFile, type GroupFile, metadataToml, serializeSpec } from "@cnbp/core";
import type { BuildpackOutputs, BuildpackProcess, LegacyBomEntry } from "./outputs.js";
import { mkdirOwned } from "./sbom.js";

type Owner = { uid: number; gid: number } | undefined;

export interface GroupOutputs {
  readonly labels: readonly BuildpackOutputs["labels"][number][];
  readonly processes: readonly BuildpackProcess[];
  readonly defaultType: string | undefined;
  readonly slices: readonly BuildpackOutputs["slices"][number][];
}

export function buildMetadata(group: GroupFile, outputs: GroupOutputs): BuildMetadataFile {
  const modules = (list: GroupFile["group"]) =>
    list.map((m) => ({
      id: m.id,
      version: m.version,
      api: m.api,
      ...(m.homepage ? { homepage: m.homepage } : {}),
    }));
  const extensions = group["group-extensions"] ?? [];
  return {
    ...(outputs.defaultType ? { "buildpack-default-process-type": outputs.defaultType } : {}),
    buildpacks: modules(group.group),
    ...(extensions.length > 0 ? { extensions: modules(extensions) } : {}),
    ...(outputs.labels.length > 0 ? { labels: outputs.labels.map((l) => ({ ...l })) } : {}),
    ...(outputs.processes.length > 0 ? { processes: outputs.processes.map(metadataProcess) } : {}),
    ...(outputs.slices.length > 0 ? { slices: outputs.slices.map((s) => ({ paths: [...s.paths] })) } : {}),
  };
}

/** metadata.toml's keys, in the Go lifecycle's order; the default flag is dropped (the top-level key says it). */
function metadataProcess(p: BuildpackProcess): NonNullable<BuildMetadataFile["processes"]>[number] {
  return {
    type: p.type,
    command: [...p.command],
    ...(p.args ? { args: [...p.args] } : {}),
    direct: p.direct,
    "buildpack-id": p.buildpackId,
    ...(p.workingDir !== undefined ? { "working-dir": p.workingDir } : {}),
    ...(p.execEnv ? { "exec-env": [...p.execEnv] } : {}),
  };
}

export async function writeMetadata(
  layersDir: string,
  metadata: BuildMetadataFile,
  owner: Owner,
): Promise<string> {
  const dir = join(layersDir, "config");
  await mkdirOwned(dir, owner);
  const path = join(dir, "metadata.toml");
  await writeFile(path, serializeSpec(metadataToml, metadata));
  if (owner) await chown(path, owner.uid, owner.gid);
  return path;
}

export async function writeLegacyBoms(
  layersDir: string,
  boms: { readonly launch: readonly LegacyBomEntry[]; readonly build: readonly LegacyBomEntry[] },
  owner: Owner,
): Promise<void> {
  for (const kind of ["launch", "build"] as const) {
    if (boms[kind].length === 0) continue;
    const dir = join(layersDir, "sbom", kind);
    await mkdirOwned(dir, owner);
    const path = join(dir, "sbom.legacy.json");
    await writeFile(path, JSON.stringify(boms[kind]));
    if (owner) await chown(path, owner.uid, owner.gid);
  }
}
