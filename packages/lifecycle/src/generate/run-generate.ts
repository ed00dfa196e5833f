/**
 * Runs one extension's `bin/generate` (shared/spec/extensions.md 3): argv `<output> <platform> <plan>`, the
 * build environment (buildpack.md 6.1) plus the generate variables, cwd `<app>`, as the build user.
 */
import { join } from "node:path";
import { apiAtLeast } from "@cnbp/core";
import { type BaseTarget, targetEnv } from "../detect/targets.js";
import { Environment } from "../env/environment.js";
import { runExecutable } from "../modules/run.js";
import type { Module } from "../modules/store.js";

/** The base image's target as the detector worked it out (buildpack.md 3.4), given to modules as CNB_TARGET_*. */

/** What every extension's generate gets alike. */
export interface GenerateContext {
  readonly appDir: string;
  readonly platformDir: string;
  readonly buildConfigDir: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly target: BaseTarget;
  /** CNB_EXEC_ENV, given to modules of Buildpack API 0.12 and newer. */
  readonly execEnv: string;
  /** The lifecycle's own environment; only what buildpack.md 6.1 lets through reaches the extension. */
  readonly lifecycleEnv: Readonly<Record<string, string | undefined>>;
}

export const generatePath = (extension: Module) => join(extension.dir, "bin", "generate");

/** Runs bin/generate to completion; its output goes to the lifecycle's. Resolves to its exit code. */
export async function runGenerate(
  extension: Module,
  outputDir: string,
  planPath: string,
  ctx: GenerateContext,
): Promise<number> {
  const result = await runExecutable({
    path: generatePath(extension),
    args: [outputDir, ctx.platformDir, planPath],
    env: await generateEnvironment(extension, outputDir, planPath, ctx),
    cwd: ctx.appDir,
    user: ctx.user,
  });
  return result.exitCode;
}

async function generateEnvironment(
  extension: Module,
  outputDir: string,
  planPath: string,
  ctx: GenerateContext,
): Promise<Record<string, string>> {
  const env = Environment.forModules(ctx.lifecycleEnv);
  if (!extension.clearEnv) await env.applyPlatformEnv(ctx.platformDir);
  await env.applyEnvDir(join(ctx.buildConfigDir, "env"), "default");
  env.set("CNB_OUTPUT_DIR", outputDir);
  env.set("CNB_EXTENSION_DIR", extension.dir);
  env.set("CNB_PLATFORM_DIR", ctx.platformDir);
  env.set("CNB_BP_PLAN_PATH", planPath);
  if (apiAtLeast(extension.api, "0.10")) {
    for (const [name, value] of Object.entries(targetEnv(ctx.target))) env.set(name, value);
  }
  if (apiAtLeast(extension.api, "0.12")) env.set("CNB_EXEC_ENV", ctx.execEnv);
  return env.toRecord();
}
