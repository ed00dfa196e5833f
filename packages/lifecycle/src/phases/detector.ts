/**
 * detector (shared/spec/platform.md 4.2, buildpack.md 2-3): reads order.toml (and system.toml from 0.15) and
 * the run image target from analyzed.toml, runs the modules' detects, selects the first group that passes,
 * and writes group.toml and plan.toml; when the group has extensions, runs their `bin/generate`
 * (extensions.md 3-5, ../generate/), which rewrites plan.toml and analyzed.toml. Extensions before Platform
 * API 0.13 are not gated behind CNB_EXPERIMENTAL_MODE.
 */
import { chown, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  type AnalyzedMetadata,
  analyzedToml,
  type GroupFile,
  groupToml,
  type PlanFile,
  planToml,
  type RunFile,
  readSpecFile,
  runToml,
  serializeSpec,
} from "@cnbp/core";
import type { FlagSpec } from "../cli/flags.js";
import { type DetectedModule, OrderDetector } from "../detect/detect-order.js";
import { readDetectOrder } from "../detect/order.js";
import { RecordedLog } from "../detect/recorded-log.js";
import { DetectRunner } from "../detect/run-detect.js";
import { type BaseTarget, baseTarget, targetEnv } from "../detect/targets.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { generate } from "../generate/index.js";
import { createLog, type Log } from "../log.js";
import { ModuleStore } from "../modules/store.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { startPhase } from "./start.js";

export const DETECTOR_FLAGS: readonly FlagSpec[] = [
  ...["app", "buildpacks", "group", "layers", "log-level", "order", "plan", "platform"].map(
    (name) => ({ name, kind: "string" }) as const,
  ),
  { name: "no-color", kind: "bool" },
  ...["analyzed", "extensions", "generated"].map(
    (name) => ({ name, kind: "string", since: "0.10" }) as const,
  ),
  { name: "build-config", kind: "string", since: "0.11" },
  { name: "run", kind: "string", since: "0.12" },
  { name: "system", kind: "string", since: "0.15" },
];

const fail = (message: string, code: number = ExitCode.detect): never => {
  throw new LifecycleError(code, `detector: ${message}`);
};

export async function detector(argv: readonly string[], env: Env): Promise<void> {
  const { api, flags, inputs, log } = startPhase("detector", argv, env, DETECTOR_FLAGS);
  if (flags.positionals.length > 0) {
    fail(`expected no arguments, got ${flags.positionals.join(" ")}`, ExitCode.invalidArgs);
  }
  const user = { uid: userId(inputs.uid, "CNB_USER_ID"), gid: userId(inputs.gid, "CNB_GROUP_ID") };
  // modules must never run as root: the detector runs as the build user, or as root for one it names
  if (process.getuid?.() === 0 && user.uid === 0) {
    fail(
      "refusing to run as root: run as the build user, or set CNB_USER_ID and CNB_GROUP_ID",
      ExitCode.failed,
    );
  }
  const result = await runDetection(api, inputs, env, log, user);
  if (result.extensions.length === 0) return;
  await generate({
    extensions: result.extensions.map((e) => e.module),
    plan: result.plan,
    platformApi: api,
    paths: {
      appDir: inputs.appDir,
      platformDir: inputs.platformDir,
      buildConfigDir: inputs.buildConfigDir,
      generatedDir: inputs.generatedDir,
      analyzedPath: inputs.analyzedPath,
      planPath: inputs.planPath,
    },
    user,
    analyzed: result.analyzed,
    runToml: await readRunToml(inputs.runPath),
    target: result.target,
    execEnv: inputs.execEnv,
    env,
    log,
  });
}

/** run.toml, only to warn when an extension switches to an image it does not list; missing is fine. */
async function readRunToml(path: string): Promise<RunFile | undefined> {
  try {
    return await readSpecFile(runToml, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return fail(`reading run.toml: ${(err as Error).message}`);
  }
}

function userId(text: string, name: string): number {
  if (!/^\d+$/.test(text)) fail(`${name}: "${text}" is not a numeric id`, ExitCode.invalidArgs);
  return Number(text);
}

/** Detection with a phase's inputs, and group.toml and plan.toml written (the detector's and the creator's). */
export async function runDetection(
  api: string,
  inputs: Inputs,
  env: Env,
  log: Log,
  user: { readonly uid: number; readonly gid: number },
): Promise<DetectResult> {
  const result = await detect({
    platformApi: api,
    appDir: inputs.appDir,
    buildpacksDir: inputs.buildpacksDir,
    extensionsDir: inputs.extensionsDir,
    platformDir: inputs.platformDir,
    buildConfigDir: inputs.buildConfigDir,
    orderPath: inputs.orderPath,
    systemPath: inputs.systemPath,
    analyzedPath: inputs.analyzedPath,
    execEnv: inputs.execEnv,
    lifecycleEnv: env,
    user,
    log,
    fullLog: createLog("debug"),
  });
  await writeOwned(inputs.groupPath, serializeSpec(groupToml, result.group), user);
  await writeOwned(inputs.planPath, serializeSpec(planToml, result.plan), user);
  return result;
}

export interface DetectOptions {
  readonly platformApi: string;
  readonly appDir: string;
  readonly buildpacksDir: string;
  readonly extensionsDir: string;
  readonly platformDir: string;
  readonly buildConfigDir: string;
  readonly orderPath: string;
  /** system.toml (Platform API 0.15); a missing file means no system buildpacks. */
  readonly systemPath?: string;
  readonly analyzedPath: string;
  /** CNB_EXEC_ENV. */
  readonly execEnv: string;
  /** The lifecycle's environment, filtered for the modules. */
  readonly lifecycleEnv: Env;
  /** The build user modules run as when the lifecycle is root. */
  readonly user?: { readonly uid: number; readonly gid: number };
  readonly log: Log;
  /** Where the detection report goes when no group passes (all of it, as Go shows it); default `log`. */
  readonly fullLog?: Log;
  /** Where the distro comes from when analyzed.toml has none. */
  readonly osReleasePath?: string;
}

export interface DetectResult {
  /** The selected buildpacks, in build order. */
  readonly buildpacks: readonly DetectedModule[];
  /** The selected extensions, in generate order: generate runs when there are any. */
  readonly extensions: readonly DetectedModule[];
  readonly group: GroupFile;
  readonly plan: PlanFile;
  /** analyzed.toml as read (generate rewrites it). */
  readonly analyzed: AnalyzedMetadata | undefined;
  /** The run image's target the modules were matched against and told about. */
  readonly target: BaseTarget;
}

/**
 * Detection: the first group of the order that passes, with its plan. Throws a LifecycleError with exit code
 * 20 (no group passed), 21 (none passed and a module errored), 22 (bad input) or 12 (a module's Buildpack API).
 */
export async function detect(o: DetectOptions): Promise<DetectResult> {
  const { order, modules } = await readDetectOrder(o.orderPath, o.systemPath, o.platformApi);
  const analyzed = await readAnalyzed(o.analyzedPath, o.platformApi);
  const target = await baseTarget(analyzed?.["run-image"]?.target, o.osReleasePath);
  const runner = new DetectRunner({
    appDir: o.appDir,
    platformDir: o.platformDir,
    buildConfigDir: o.buildConfigDir,
    lifecycleEnv: o.lifecycleEnv,
    targetEnv: targetEnv(target),
    execEnv: o.execEnv,
    ...(o.user ? { user: o.user } : {}),
  });
  const report = new RecordedLog();
  const detector = new OrderDetector({
    store: new ModuleStore({ buildpacks: o.buildpacksDir, extensions: o.extensionsDir }),
    detect: (module) => runner.detect(module),
    platformApi: o.platformApi,
    execEnv: o.execEnv,
    target,
    log: report,
  });
  // every module the order names must exist with a supported API before anything runs (as the Go lifecycle)
  await Promise.all(modules.map((ref) => detector.lookup(ref)));

  const outcome = await detector.detect(order).finally(() => runner.close());
  if (!outcome.passed) {
    report.replay(o.fullLog ?? o.log);
    o.log.error("No buildpack groups passed detection.");
    if (detector.errored)
      fail("failed to detect: buildpack(s) failed with err", ExitCode.detectFailedWithErrors);
    o.log.error("Please check that you are running against the correct path.");
    return fail("failed to detect: no buildpacks participating", ExitCode.detectFailedCleanly);
  }
  report.replay(o.log);
  const buildpacks = outcome.modules.filter((m) => m.kind === "buildpack");
  const extensions = outcome.modules.filter((m) => m.kind === "extension");
  const element = (m: DetectedModule) => ({
    id: m.id,
    version: m.version,
    api: m.module.api,
    ...(m.module.homepage ? { homepage: m.module.homepage } : {}),
  });
  return {
    buildpacks,
    extensions,
    group: {
      group: buildpacks.map(element),
      ...(extensions.length > 0 ? { "group-extensions": extensions.map(element) } : {}),
    },
    plan: outcome.entries.length > 0 ? { entries: outcome.entries } : {},
    analyzed,
    target,
  };
}

/** analyzed.toml for the run image target; a missing file means no target data. */
async function readAnalyzed(path: string, platformApi: string): Promise<AnalyzedMetadata | undefined> {
  try {
    return await readSpecFile(analyzedToml, path, { platformApi });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return fail(`reading analyzed.toml: ${(err as Error).message}`);
  }
}

/** Writes an output file; a root lifecycle gives it to the build user, who reads and rewrites it later. */
async function writeOwned(path: string, text: string, user: { uid: number; gid: number }) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  if (process.getuid?.() === 0) await chown(path, user.uid, user.gid);
}
