/**
 * The app's environment (platform.md 10, buildpack.md 6.3): the container's minus the launcher's own inputs,
 * `/cnb/process` and `/cnb/lifecycle` out of PATH, then each layer's `bin/` and `lib/` and its env files.
 */
import { join } from "node:path";
import { Environment, LAYER_PATHS } from "../env/environment.js";

const LAUNCHER_INPUTS = [
  "CNB_LAYERS_DIR",
  "CNB_APP_DIR",
  "CNB_PROCESS_TYPE",
  "CNB_PLATFORM_API",
  "CNB_DEPRECATION_MODE",
];
const LAUNCHER_PATH_DIRS = new Set(["/cnb/process", "/cnb/lifecycle"]);

export async function launchEnvironment(
  containerEnv: Readonly<Record<string, string | undefined>>,
  layers: readonly string[],
  type: string | undefined,
): Promise<Environment> {
  const env = new Environment(containerEnv);
  for (const name of LAUNCHER_INPUTS) env.delete(name);
  const path = env.get("PATH");
  if (path !== undefined) {
    env.set(
      "PATH",
      path
        .split(":")
        .filter((dir) => !LAUNCHER_PATH_DIRS.has(dir))
        .join(":"),
    );
  }
  for (const layer of layers) {
    await env.addLayerPaths(layer, LAYER_PATHS.launch);
    await env.applyEnvDir(join(layer, "env"));
    await env.applyEnvDir(join(layer, "env.launch"));
    if (type) await env.applyEnvDir(join(layer, "env.launch", type));
  }
  return env;
}
