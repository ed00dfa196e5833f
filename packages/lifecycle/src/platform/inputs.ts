/**
 * The lifecycle's inputs (shared/spec/platform.md section 2): each from its flag, else its `CNB_*` variable,
 * else its default. Defaults that mention <layers> are resolved after the layers dir is known; directories are
 * made absolute.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { ParsedFlags } from "../cli/flags.js";
import { parseGoBool } from "../cli/flags.js";

/** The process environment, as phases read it. */
export type Env = Readonly<Record<string, string | undefined>>;

interface InputSpec {
  readonly flag?: string;
  readonly env?: string;
  readonly kind: "path" | "string" | "bool" | "list";
  readonly default?: string | ((layers: string, exists: (p: string) => boolean) => string);
}

export const INPUTS = {
  appDir: { flag: "app", env: "CNB_APP_DIR", kind: "path", default: "/workspace" },
  layersDir: { flag: "layers", env: "CNB_LAYERS_DIR", kind: "path", default: "/layers" },
  platformDir: { flag: "platform", env: "CNB_PLATFORM_DIR", kind: "path", default: "/platform" },
  buildConfigDir: {
    flag: "build-config",
    env: "CNB_BUILD_CONFIG_DIR",
    kind: "path",
    default: "/cnb/build-config",
  },
  buildpacksDir: { flag: "buildpacks", env: "CNB_BUILDPACKS_DIR", kind: "path", default: "/cnb/buildpacks" },
  extensionsDir: { flag: "extensions", env: "CNB_EXTENSIONS_DIR", kind: "path", default: "/cnb/extensions" },
  orderPath: {
    flag: "order",
    env: "CNB_ORDER_PATH",
    kind: "path",
    default: (layers, exists) =>
      exists(join(layers, "order.toml")) ? join(layers, "order.toml") : "/cnb/order.toml",
  },
  systemPath: { flag: "system", env: "CNB_SYSTEM_PATH", kind: "path", default: "/cnb/system.toml" },
  runPath: { flag: "run", env: "CNB_RUN_PATH", kind: "path", default: "/cnb/run.toml" },
  stackPath: { flag: "stack", env: "CNB_STACK_PATH", kind: "path", default: "/cnb/stack.toml" },
  analyzedPath: {
    flag: "analyzed",
    env: "CNB_ANALYZED_PATH",
    kind: "path",
    default: (l) => join(l, "analyzed.toml"),
  },
  groupPath: { flag: "group", env: "CNB_GROUP_PATH", kind: "path", default: (l) => join(l, "group.toml") },
  planPath: { flag: "plan", env: "CNB_PLAN_PATH", kind: "path", default: (l) => join(l, "plan.toml") },
  generatedDir: {
    flag: "generated",
    env: "CNB_GENERATED_DIR",
    kind: "path",
    default: (l) => join(l, "generated"),
  },
  extendedDir: {
    flag: "extended",
    env: "CNB_EXTENDED_DIR",
    kind: "path",
    default: (l) => join(l, "extended"),
  },
  reportPath: {
    flag: "report",
    env: "CNB_REPORT_PATH",
    kind: "path",
    default: (l) => join(l, "report.toml"),
  },
  projectMetadataPath: {
    flag: "project-metadata",
    env: "CNB_PROJECT_METADATA_PATH",
    kind: "path",
    default: (l) => join(l, "project-metadata.toml"),
  },
  uid: { flag: "uid", env: "CNB_USER_ID", kind: "string", default: "0" },
  gid: { flag: "gid", env: "CNB_GROUP_ID", kind: "string", default: "0" },
  logLevel: { flag: "log-level", env: "CNB_LOG_LEVEL", kind: "string", default: "info" },
  noColor: { flag: "no-color", env: "CNB_NO_COLOR", kind: "bool" },
  useDaemon: { flag: "daemon", env: "CNB_USE_DAEMON", kind: "bool" },
  useLayout: { flag: "layout", env: "CNB_USE_LAYOUT", kind: "bool" },
  layoutDir: { flag: "layout-dir", env: "CNB_LAYOUT_DIR", kind: "path" },
  insecureRegistries: { flag: "insecure-registry", env: "CNB_INSECURE_REGISTRIES", kind: "list" },
  cacheDir: { flag: "cache-dir", env: "CNB_CACHE_DIR", kind: "path" },
  cacheImage: { flag: "cache-image", env: "CNB_CACHE_IMAGE", kind: "string" },
  launchCacheDir: { flag: "launch-cache", env: "CNB_LAUNCH_CACHE_DIR", kind: "path" },
  skipLayers: { flag: "skip-layers", env: "CNB_SKIP_LAYERS", kind: "bool" },
  skipRestore: { flag: "skip-restore", env: "CNB_SKIP_RESTORE", kind: "bool" },
  previousImage: { flag: "previous-image", env: "CNB_PREVIOUS_IMAGE", kind: "string" },
  runImage: { flag: "run-image", env: "CNB_RUN_IMAGE", kind: "string" },
  buildImage: { flag: "build-image", env: "CNB_BUILD_IMAGE", kind: "string" },
  processType: { flag: "process-type", env: "CNB_PROCESS_TYPE", kind: "string" },
  extendKind: { flag: "kind", env: "CNB_EXTEND_KIND", kind: "string", default: "build" },
  parallelExport: { flag: "parallel", env: "CNB_PARALLEL_EXPORT", kind: "bool" },
  forceRebase: { flag: "force", env: "CNB_FORCE_REBASE", kind: "bool" },
  execEnv: { env: "CNB_EXEC_ENV", kind: "string", default: "production" },
  launcherPath: { flag: "launcher", kind: "path", default: "/cnb/lifecycle/launcher" },
  launcherSbomDir: { flag: "launcher-sbom", kind: "path", default: "/cnb/lifecycle" },
  tags: { flag: "tag", kind: "list" },
} as const satisfies Record<string, InputSpec>;

export type InputName = keyof typeof INPUTS;
type ValueOf<K extends InputName> = (typeof INPUTS)[K]["kind"] extends "bool"
  ? boolean
  : (typeof INPUTS)[K]["kind"] extends "list"
    ? string[]
    : (typeof INPUTS)[K] extends { default: unknown }
      ? string
      : string | undefined;
export type Inputs = { [K in InputName]: ValueOf<K> };

/** Resolves every input for one phase run: flag > env > default. */
export function resolveInputs(
  flags: ParsedFlags,
  env: Env,
  cwd: string = process.cwd(),
  exists: (path: string) => boolean = existsSync,
): Inputs {
  const raw = (spec: InputSpec): string | boolean | string[] | undefined => {
    const fromFlag = spec.flag ? flags.values.get(spec.flag) : undefined;
    if (fromFlag !== undefined) return fromFlag;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== "") {
      if (spec.kind === "bool") return parseGoBool(fromEnv) ?? false;
      if (spec.kind === "list")
        return fromEnv
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      return fromEnv;
    }
    return undefined;
  };
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const layers = abs((raw(INPUTS.layersDir) as string | undefined) ?? "/layers");
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(INPUTS) as [InputName, InputSpec][]) {
    let value = raw(spec);
    if (value === undefined && spec.default !== undefined) {
      value = typeof spec.default === "function" ? spec.default(layers, exists) : spec.default;
    }
    if (spec.kind === "bool") value = value === true;
    if (spec.kind === "list") value = (value as string[] | undefined) ?? [];
    if (spec.kind === "path" && typeof value === "string") value = abs(value);
    out[name] = value;
  }
  return out as Inputs;
}
