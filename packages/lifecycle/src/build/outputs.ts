/**
 * What a buildpack declares besides layers (shared/spec/buildpack.md 5 step 5, 8): build.toml (`[[unmet]]`,
 * legacy `[[bom]]`) and launch.toml (`[[labels]]`, `[[processes]]`, `[[slices]]`, legacy `[[bom]]`), each read
 * against the buildpack's own Buildpack API.
 */
import { join } from "node:path";
import {
  apiAtLeast,
  type BuildTomlFile,
  buildToml,
  checkUnmet,
  type LaunchMetadataFile,
  launchToml,
} from "@cnbp/core";
import type { Log } from "../log.js";
import { readBuildpackToml } from "./buildpack-files.js";
import { type BuildpackRef, buildpackError, problemsText } from "./errors.js";

/** A process as metadata.toml records it; `default` is kept until the processes are merged. */
export interface BuildpackProcess {
  readonly type: string;
  readonly command: readonly string[];
  readonly args?: readonly string[];
  readonly direct: boolean;
  readonly default: boolean;
  readonly buildpackId: string;
  readonly workingDir?: string;
  readonly execEnv?: readonly string[];
}

/** A legacy `[[bom]]` entry, tagged with the buildpack that wrote it (as `sbom.legacy.json` holds it). */
export type LegacyBomEntry = Record<string, unknown> & { buildpack: { id: string; version: string } };

export interface BuildpackOutputs {
  readonly unmet: readonly string[];
  readonly labels: readonly { key: string; value: string }[];
  readonly processes: readonly BuildpackProcess[];
  readonly slices: readonly { paths: string[] }[];
  readonly launchBom: readonly LegacyBomEntry[];
  readonly buildBom: readonly LegacyBomEntry[];
}

type Buildpack = BuildpackRef & { readonly api: string };

export async function readOutputs(
  bp: Buildpack,
  dir: string,
  planNames: readonly string[],
  log: Log,
): Promise<BuildpackOutputs> {
  const buildFile = join(dir, "build.toml");
  const build: BuildTomlFile = (await readBuildpackToml(bp, buildToml, buildFile, log)) ?? {};
  const unmetProblems = checkUnmet(build, planNames).map((f) => ({
    ...f,
    file: buildFile,
    severity: "error" as const,
  }));
  if (unmetProblems.length > 0) throw buildpackError(bp, problemsText(unmetProblems));

  const launch: LaunchMetadataFile =
    (await readBuildpackToml(bp, launchToml, join(dir, "launch.toml"), log)) ?? {};
  const withBuildpack = (bom: readonly Record<string, unknown>[] | undefined) =>
    (bom ?? []).map((entry) => ({ ...entry, buildpack: { id: bp.id, version: bp.version } }));
  return {
    unmet: (build.unmet ?? []).map((u) => u.name),
    labels: (launch.labels ?? []).map(({ key, value }) => ({ key, value })),
    processes: (launch.processes ?? []).map((p) => toProcess(bp, p)),
    slices: (launch.slices ?? []).map((s) => ({ paths: s.paths ?? [] })),
    launchBom: withBuildpack(launch.bom),
    buildBom: withBuildpack(build.bom),
  };
}

/**
 * A launch.toml process in metadata.toml's terms: before Buildpack API 0.9 the command is one string run
 * through the shell unless `direct`; from 0.9 an array, always direct. `working-dir` counts from 0.8 (the
 * warning for older buildpacks was logged when the file was read).
 */
function toProcess(bp: Buildpack, p: NonNullable<LaunchMetadataFile["processes"]>[number]): BuildpackProcess {
  const command = typeof p.command === "string" ? [p.command] : p.command;
  const workingDir = apiAtLeast(bp.api, "0.8") ? p["working-dir"] : undefined;
  return {
    type: p.type,
    command,
    ...(p.args ? { args: p.args } : {}),
    direct: apiAtLeast(bp.api, "0.9") ? true : (p.direct ?? false),
    default: p.default ?? false,
    buildpackId: bp.id,
    ...(workingDir !== undefined ? { workingDir } : {}),
    ...(p["exec-env"] ? { execEnv: p["exec-env"] } : {}),
  };
}
