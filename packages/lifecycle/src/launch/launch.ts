/**
 * The launcher's work up to the exec (platform.md 10): read metadata.toml, select the process, build its
 * environment, run exec.d, and say what to execute. The caller makes the `execve`.
 */

import { statSync } from "node:fs";
import { join } from "node:path";
import type { Log } from "../log.js";
import { requirePlatformApi } from "../platform/api.js";
import { checkBuildpackApi } from "./apis.js";
import { launchEnvironment } from "./environment.js";
import { directExec, type ExecPlan, shellExec } from "./exec.js";
import { runExecD } from "./exec-d.js";
import { launchLayers, layerFiles } from "./layers.js";
import { readLaunchMetadata } from "./metadata.js";
import { selectProcess } from "./select.js";

export async function planLaunch(
  self: string,
  userArgs: readonly string[],
  containerEnv: Readonly<Record<string, string | undefined>>,
  log: Log,
): Promise<ExecPlan> {
  const platformApi = requirePlatformApi(containerEnv);
  if (containerEnv.CNB_PROCESS_TYPE) {
    log.warn(
      `CNB_PROCESS_TYPE is not supported in Platform API ${platformApi} and is ignored: start /cnb/process/${containerEnv.CNB_PROCESS_TYPE} to run that process`,
    );
  }
  const layersDir = containerEnv.CNB_LAYERS_DIR || "/layers";
  const appDir = containerEnv.CNB_APP_DIR || "/workspace";
  const metadata = await readLaunchMetadata(layersDir);
  for (const bp of metadata.buildpacks) checkBuildpackApi(bp.id, bp.api);
  const process = selectProcess({
    self,
    userArgs,
    metadata,
    platformApi,
    execEnv: containerEnv.CNB_EXEC_ENV || "production",
  });

  const layers = await launchLayers(layersDir, metadata.buildpacks);
  const env = await launchEnvironment(containerEnv, layers, process.type);
  for (const file of await layerFiles(layers, "exec.d", process.type)) await runExecD(file, env, appDir);

  if (process.direct) return directExec(process, env.toRecord(), appDir);
  const profiles = await layerFiles(layers, "profile.d", process.type);
  const appProfile = join(appDir, ".profile");
  if (statSync(appProfile, { throwIfNoEntry: false })?.isFile()) profiles.push(appProfile);
  return shellExec(process, profiles, self, env.toRecord(), appDir);
}
