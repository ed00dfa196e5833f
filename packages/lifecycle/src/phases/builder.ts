/**
 * builder (shared/spec/platform.md 4.5): reads group.toml, plan.toml and analyzed.toml, runs every group
 * buildpack's bin/build (buildpack.md 5, see ../build/) and writes `<layers>/config/metadata.toml`.
 *
 * The build user: the Go builder refuses to run as root, since pack starts it as the build user. cnbp's
 * builder also accepts being root with a build user given (CNB_USER_ID/CNB_GROUP_ID or -uid/-gid, which Go's
 * builder lacks): then every bin/build runs as that user and what the lifecycle writes is given to it. Root
 * with no build user (uid 0) is refused, as Go does, so no buildpack ever runs as root.
 */
import { type AnalyzedMetadata, analyzedToml, planToml, readSpecFile } from "@cnbp/core";
import { type BuildRequest, type BuildResult, build } from "../build/build.js";
import type { FlagSpec } from "../cli/flags.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import { ModuleStore } from "../modules/store.js";
import { readGroup } from "../platform/group.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { startPhase } from "./start.js";

export const BUILDER_FLAGS: readonly FlagSpec[] = [
  ...["app", "buildpacks", "group", "layers", "log-level", "plan", "platform", "uid", "gid"].map(
    (name) => ({ name, kind: "string" }) as const,
  ),
  { name: "no-color", kind: "bool" },
  { name: "build-config", kind: "string", since: "0.11" },
  { name: "analyzed", kind: "string", since: "0.12" },
];

const fail = (message: string, code: number = ExitCode.build): never => {
  throw new LifecycleError(code, `builder: ${message}`);
};

export async function builder(argv: readonly string[], env: Env): Promise<void> {
  const { flags, inputs, log } = startPhase("builder", argv, env, BUILDER_FLAGS);
  if (flags.positionals.length > 0) {
    fail(`expected no arguments, got ${flags.positionals.join(" ")}`, ExitCode.invalidArgs);
  }
  await runBuilder(inputs, env, log);
}

/**
 * Everything the builder does once its inputs are known; returns what it built (each buildpack's layers, the
 * metadata written), for tests and for the creator. `options` passes bin/build's output and os-release path.
 */
export async function runBuilder(
  inputs: Inputs,
  env: Env,
  log: Log,
  options: Pick<BuildRequest, "output" | "osReleasePath"> = {},
): Promise<BuildResult> {
  const user = { uid: userId(inputs.uid, "-uid"), gid: userId(inputs.gid, "-gid") };
  if (process.getuid?.() === 0 && user.uid === 0) {
    fail("refusing to run as root: give the build user with CNB_USER_ID and CNB_GROUP_ID", ExitCode.failed);
  }
  const group = await readGroup("builder", inputs.groupPath, ExitCode.build);
  const plan = await readInput(planToml, inputs.planPath, "the plan");
  const analyzed = await readAnalyzed(inputs.analyzedPath, log);
  try {
    return await build({
      appDir: inputs.appDir,
      layersDir: inputs.layersDir,
      platformDir: inputs.platformDir,
      buildConfigDir: inputs.buildConfigDir,
      buildpacks: new ModuleStore({ buildpacks: inputs.buildpacksDir, extensions: inputs.extensionsDir }),
      group,
      plan,
      target: analyzed?.["run-image"]?.target,
      execEnv: inputs.execEnv,
      lifecycleEnv: env,
      user,
      log,
      ...options,
    });
  } catch (err) {
    if (err instanceof LifecycleError) throw new LifecycleError(err.exitCode, `builder: ${err.message}`);
    return fail((err as Error).message);
  }
}

function userId(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) fail(`${flag}: "${text}" is not a numeric id`, ExitCode.invalidArgs);
  return Number(text);
}

async function readInput<T>(kind: Parameters<typeof readSpecFile<T>>[0], path: string, what: string) {
  try {
    return await readSpecFile(kind, path);
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? `${path} does not exist` : (err as Error).message;
    return fail(`reading ${what}: ${why}`);
  }
}

/** analyzed.toml gives the target; without one the build goes on with the build container's, as in Go. */
async function readAnalyzed(path: string, log: Log): Promise<AnalyzedMetadata | undefined> {
  try {
    return await readSpecFile(analyzedToml, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      return fail(`reading analyzed.toml: ${(err as Error).message}`);
    log.warn(`No analyzed metadata found at path "${path}"`);
    return undefined;
  }
}
