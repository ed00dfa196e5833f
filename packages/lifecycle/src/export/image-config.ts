/**
 * The app image's config (shared/spec/platform.md 4.6 "Config changes"): the base's config (the run image's,
 * or the whole config of the extended run image, its env, user and labels included) with the new
 * layers' diffIDs and history, the lifecycle's labels and environment, the app dir as working dir, the
 * launcher or a process as entrypoint, no Cmd, and `created` (and every history entry's date) set to
 * SOURCE_DATE_EPOCH or the CNB epoch, as the Go lifecycle (imgutil) does.
 */
import type { ImageConfig } from "@cnbp/core";

export const LAUNCHER_PATH = "/cnb/lifecycle/launcher";
export const PROCESS_DIR = "/cnb/process";
export const LIFECYCLE_DIR = "/cnb/lifecycle";

export interface AppConfigInput {
  /** The base's config: the run image's, or the extended run image's. */
  readonly base: ImageConfig;
  /** The layers added on top of the base, in order. */
  readonly layers: readonly { readonly diffId: string; readonly createdBy: string }[];
  /** Labels set in this order (a later one wins). */
  readonly labels: readonly (readonly [string, string])[];
  readonly layersDir: string;
  readonly appDir: string;
  readonly platformApi: string;
  readonly entrypoint: string;
  readonly created: Date;
}

/** RFC 3339 in whole seconds, as Go writes times. */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function appImageConfig(input: AppConfigInput): ImageConfig {
  const { base } = input;
  const created = goTime(input.created);
  const baseDiffIds = base.rootfs.diff_ids;
  const history = [
    ...baseHistory(base).map((h) => ({ ...h, created })),
    ...input.layers.map((l) => ({ created, created_by: l.createdBy })),
  ];
  let env = [...(base.config?.Env ?? [])];
  const setEnv = (name: string, value: string) => {
    const entry = `${name}=${value}`;
    const at = env.findIndex((e) => e.split("=")[0] === name);
    if (at >= 0) env[at] = entry;
    else env = [...env, entry];
  };
  const basePath = env.find((e) => e.startsWith("PATH="))?.slice("PATH=".length) ?? "";
  setEnv("CNB_LAYERS_DIR", input.layersDir);
  setEnv("CNB_APP_DIR", input.appDir);
  setEnv("CNB_PLATFORM_API", input.platformApi);
  setEnv("CNB_DEPRECATION_MODE", "quiet");
  setEnv("PATH", [PROCESS_DIR, LIFECYCLE_DIR, ...(basePath ? [basePath] : [])].join(":"));

  const { Cmd: _cmd, ...baseContainer } = base.config ?? {};
  const { container: _container, ...rest } = base as ImageConfig & { container?: unknown };
  return {
    ...rest,
    created,
    config: {
      ...baseContainer,
      Env: env,
      Entrypoint: [input.entrypoint],
      WorkingDir: input.appDir,
      Labels: { ...(base.config?.Labels ?? {}), ...Object.fromEntries(input.labels) },
    },
    rootfs: { type: "layers", diff_ids: [...baseDiffIds, ...input.layers.map((l) => l.diffId)] },
    history,
  };
}

/**
 * The base image's history, one entry per layer: entries of empty layers are dropped; when what is left
 * does not match the layers one for one, each layer gets an empty entry (imgutil's NormalizedHistory).
 */
function baseHistory(base: ImageConfig): NonNullable<ImageConfig["history"]> {
  const layers = base.rootfs.diff_ids.length;
  const kept = (base.history ?? []).filter((h) => !h.empty_layer);
  return kept.length === layers ? kept : Array.from({ length: layers }, () => ({}));
}

/** Processes and default process type, as metadata.toml gives them. */
export interface ProcessInfo {
  readonly types: readonly string[];
  readonly buildpackDefault?: string;
}

/**
 * The entrypoint: `/cnb/process/<type>` for `-process-type` (undefined when there is no such process), else
 * for the buildpacks' default process, else the launcher itself.
 */
export function entrypointFor(processType: string | undefined, processes: ProcessInfo): string | undefined {
  if (processType) {
    return processes.types.includes(processType) ? `${PROCESS_DIR}/${processType}` : undefined;
  }
  if (processes.buildpackDefault) return `${PROCESS_DIR}/${processes.buildpackDefault}`;
  return LAUNCHER_PATH;
}
