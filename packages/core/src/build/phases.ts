/**
 * The lifecycle's containers for one build, as data (platform.md 4-8): which phases run, as which user, with
 * which flags, mounts and environment. Registry credentials reach only the phases that talk to registries
 * (analyzer, restorer, exporter, or the creator that runs them all); buildpacks run as the build user with none.
 */
import { type ModuleKind, moduleDir } from "../authoring/module-layer.js";
import type { ContainerStep, Mount, NetworkMode } from "../drivers/contract.js";

/** Where phases see the build's volumes. */
export const PATHS = {
  layers: "/layers",
  app: "/workspace",
  platform: "/platform",
  cache: "/cache",
  layoutRepo: "/layout-repo",
  /** The order.toml a build's chosen buildpacks make, put into the layers volume (its `-order` default). */
  order: "/layers/order.toml",
} as const;

/** Workspace volume names (`VolumeSpec.name`). */
export const VOLUMES = { layers: "layers", app: "app", platform: "platform", cache: "cache" } as const;

export type PhaseName = "creator" | "analyzer" | "detector" | "restorer" | "builder" | "exporter";

export interface PhaseStep {
  readonly phase: PhaseName;
  readonly step: ContainerStep;
}

export interface PhasePlanInput {
  /** The builder image's id: every phase runs exactly it, but those `lifecycleImage` takes. */
  readonly builderImage: string;
  /**
   * An image holding `/cnb/lifecycle` (`--lifecycle-image`): the phases that get registry credentials
   * (analyzer, restorer, exporter) run in it instead of the builder, so no code of the builder's sees them.
   */
  readonly lifecycleImage?: string;
  /** Where phases see the app (`--workspace`); default PATHS.app. */
  readonly appDir?: string;
  readonly platformApi: string;
  readonly uid: number;
  readonly gid: number;
  /** The output image and its extra tags. */
  readonly image: string;
  readonly tags: readonly string[];
  readonly runImage: string;
  /** "layout": export into the OCI layout repository bind-mounted from `layoutRepo`; "registry": push. */
  readonly output: { readonly kind: "registry" } | { readonly kind: "layout"; readonly layoutRepo: string };
  /** Run the creator (trusted builder) rather than the five phases. */
  readonly creator: boolean;
  /** Skip restoring the cache (`--clear-cache`). */
  readonly clearCache: boolean;
  readonly cacheImage?: string;
  readonly previousImage?: string;
  readonly defaultProcess?: string;
  readonly network?: NetworkMode;
  /** CNB_REGISTRY_AUTH's value, for the registry phases only. */
  readonly registryAuth?: string;
  readonly insecureRegistries?: readonly string[];
  /** Host directories the user mounts into the buildpacks' phases (`--volume`). */
  readonly userMounts?: readonly Mount[];
  /**
   * Host directories of buildpacks the builder lacks (`--buildpack`), each mounted read-only over
   * `/cnb/buildpacks/<escaped id>/<version>` in the phases that run buildpacks, beside the builder's own.
   */
  readonly buildpackDirs?: readonly ModuleDir[];
  /**
   * Host directories of extensions the build is given (`--extension`), each mounted read-only over
   * `/cnb/extensions/<escaped id>/<version>` in the detector, the only phase that runs extensions (a build
   * with extensions never runs the creator).
   */
  readonly extensionDirs?: readonly ModuleDir[];
  /** An order.toml in the layers volume that replaces the builder's (`-order`, for the detector or creator). */
  readonly orderPath?: string;
  /** The lifecycle's log level (`-log-level`). */
  readonly logLevel?: "debug" | "info" | "warn" | "error";
}

/** A module's directory on the host, mounted over its directory under `/cnb`. */
interface ModuleDir {
  readonly id: string;
  readonly version: string;
  readonly source: string;
}

const ROOT = "0:0";

export function phasePlan(input: PhasePlanInput): PhaseStep[] {
  const buildUser = `${input.uid}:${input.gid}`;
  const layout = input.output.kind === "layout";
  const volume = (name: string, target: string, readOnly = false): Mount => ({
    type: "volume",
    volume: name,
    target,
    ...(readOnly ? { readOnly } : {}),
  });
  const appDir = input.appDir ?? PATHS.app;
  const layers = volume(VOLUMES.layers, PATHS.layers);
  const app = volume(VOLUMES.app, appDir);
  const platform = volume(VOLUMES.platform, PATHS.platform, true);
  const cache = volume(VOLUMES.cache, PATHS.cache);
  const layoutRepo: Mount[] =
    input.output.kind === "layout"
      ? [{ type: "bind", source: input.output.layoutRepo, target: PATHS.layoutRepo }]
      : [];
  const baseEnv: Record<string, string> = {
    CNB_PLATFORM_API: input.platformApi,
    ...(layout ? { CNB_EXPERIMENTAL_MODE: "warn" } : {}),
  };
  const registryEnv: Record<string, string> = {
    ...baseEnv,
    ...(input.registryAuth ? { CNB_REGISTRY_AUTH: input.registryAuth } : {}),
    ...(input.insecureRegistries?.length && atLeast(input.platformApi, "0.13")
      ? { CNB_INSECURE_REGISTRIES: input.insecureRegistries.join(",") }
      : {}),
  };
  const common = [...(input.logLevel ? ["-log-level", input.logLevel] : [])];
  const layoutFlags = layout ? ["-layout", "-layout-dir", PATHS.layoutRepo] : [];
  const tagFlags = input.tags.flatMap((t) => ["-tag", t]);
  const cacheFlags = input.cacheImage ? ["-cache-image", input.cacheImage] : ["-cache-dir", PATHS.cache];
  const step = (
    phase: PhaseName,
    user: string,
    args: readonly string[],
    mounts: readonly Mount[],
    env: Record<string, string>,
    image = input.builderImage,
  ): PhaseStep => ({
    phase,
    step: {
      image,
      cmd: [`/cnb/lifecycle/${phase}`, ...common, ...args],
      user,
      env,
      mounts,
      ...(input.network ? { network: input.network } : {}),
      labels: { "io.cnbp.phase": phase },
    },
  });
  const user = input.userMounts ?? [];
  const modules = (kind: ModuleKind, dirs: readonly ModuleDir[] = []): Mount[] =>
    dirs.map((d) => ({
      type: "bind",
      source: d.source,
      target: moduleDir(kind, d.id, d.version),
      readOnly: true,
    }));
  const buildpacks = modules("buildpack", input.buildpackDirs);
  const extensions = modules("extension", input.extensionDirs);
  const orderFlags = input.orderPath ? ["-order", input.orderPath] : [];
  const registryImage = input.lifecycleImage ?? input.builderImage;

  if (input.creator)
    return [
      step(
        "creator",
        ROOT,
        [
          ...["-app", appDir, "-layers", PATHS.layers, "-platform", PATHS.platform],
          ...orderFlags,
          ...cacheFlags,
          ...["-run-image", input.runImage],
          ...(input.previousImage ? ["-previous-image", input.previousImage] : []),
          ...(input.clearCache ? ["-skip-restore"] : []),
          ...(input.defaultProcess ? ["-process-type", input.defaultProcess] : []),
          ...layoutFlags,
          ...tagFlags,
          input.image,
        ],
        [layers, app, platform, cache, ...layoutRepo, ...buildpacks, ...user],
        registryEnv,
      ),
    ];
  return [
    step(
      "analyzer",
      ROOT,
      [
        ...["-layers", PATHS.layers, "-run-image", input.runImage],
        ...(input.previousImage ? ["-previous-image", input.previousImage] : []),
        ...layoutFlags,
        ...tagFlags,
        input.image,
      ],
      [layers, ...layoutRepo],
      { ...registryEnv, CNB_USER_ID: String(input.uid), CNB_GROUP_ID: String(input.gid) },
      registryImage,
    ),
    step(
      "detector",
      buildUser,
      ["-app", appDir, "-layers", PATHS.layers, "-platform", PATHS.platform, ...orderFlags],
      [layers, app, platform, ...buildpacks, ...extensions, ...user],
      baseEnv,
    ),
    step(
      "restorer",
      ROOT,
      [
        ...["-layers", PATHS.layers, ...cacheFlags],
        ...(input.clearCache ? ["-skip-layers"] : []),
        ...layoutFlags,
      ],
      [layers, cache, ...layoutRepo],
      { ...registryEnv, CNB_USER_ID: String(input.uid), CNB_GROUP_ID: String(input.gid) },
      registryImage,
    ),
    step(
      "builder",
      buildUser,
      ["-app", appDir, "-layers", PATHS.layers, "-platform", PATHS.platform],
      [layers, app, platform, ...buildpacks, ...user],
      baseEnv,
    ),
    step(
      "exporter",
      ROOT,
      [
        ...["-app", appDir, "-layers", PATHS.layers, ...cacheFlags],
        ...(input.defaultProcess ? ["-process-type", input.defaultProcess] : []),
        ...layoutFlags,
        ...tagFlags,
        input.image,
      ],
      [layers, app, cache, ...layoutRepo],
      { ...registryEnv, CNB_USER_ID: String(input.uid), CNB_GROUP_ID: String(input.gid) },
      registryImage,
    ),
  ];
}

function atLeast(api: string, min: string): boolean {
  const [a = 0, b = 0] = api.split(".").map(Number);
  const [c = 0, d = 0] = min.split(".").map(Number);
  return a > c || (a === c && b >= d);
}
