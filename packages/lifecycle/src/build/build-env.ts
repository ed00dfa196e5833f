/**
 * The environment of each bin/build (shared/spec/buildpack.md 6.1): the lifecycle's filtered env, plus what
 * the build layers of earlier buildpacks contribute (accumulated here as buildpacks finish), then per buildpack
 * the platform's env (unless clear-env), the operator's `<build-config>/env/` and the lifecycle's `CNB_*`.
 */
import { join } from "node:path";
import { apiAtLeast } from "@cnbp/core";
import { Environment, LAYER_PATHS } from "../env/environment.js";
import type { Module } from "../modules/store.js";

export interface BuildpackEnvInputs {
  readonly platformDir: string;
  readonly buildConfigDir: string;
  /** `<layers>/<escaped id>`. */
  readonly layersDir: string;
  readonly planPath: string;
  /** `CNB_TARGET_*`, given to Buildpack API >= 0.10. */
  readonly target: Readonly<Record<string, string>>;
  /** `CNB_EXEC_ENV`, given to Buildpack API >= 0.12. */
  readonly execEnv: string;
}

export class BuildEnvironment {
  private readonly layers: Environment;

  constructor(lifecycleEnv: Readonly<Record<string, string | undefined>>) {
    this.layers = Environment.forModules(lifecycleEnv);
  }

  /** Makes one `build = true` layer visible to later buildpacks: its path dirs, then `env/` and `env.build/`. */
  async addBuildLayer(layerDir: string): Promise<void> {
    await this.layers.addLayerPaths(layerDir, LAYER_PATHS.build);
    await this.layers.applyEnvDir(join(layerDir, "env"), "override");
    await this.layers.applyEnvDir(join(layerDir, "env.build"), "override");
  }

  /** The variables bin/build of `buildpack` runs with. */
  async forBuildpack(buildpack: Module, inputs: BuildpackEnvInputs): Promise<Record<string, string>> {
    const env = new Environment(this.layers);
    if (!buildpack.clearEnv) await env.applyPlatformEnv(inputs.platformDir);
    await env.applyEnvDir(join(inputs.buildConfigDir, "env"), "default");
    env.set("CNB_BUILDPACK_DIR", buildpack.dir);
    if (apiAtLeast(buildpack.api, "0.8")) {
      env.set("CNB_LAYERS_DIR", inputs.layersDir);
      env.set("CNB_PLATFORM_DIR", inputs.platformDir);
      env.set("CNB_BP_PLAN_PATH", inputs.planPath);
    }
    if (apiAtLeast(buildpack.api, "0.10")) {
      for (const [name, value] of Object.entries(inputs.target)) env.set(name, value);
    }
    if (apiAtLeast(buildpack.api, "0.12") && inputs.execEnv) env.set("CNB_EXEC_ENV", inputs.execEnv);
    return env.toRecord();
  }
}
