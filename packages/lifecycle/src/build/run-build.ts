/**
 * Runs one buildpack's bin/build (shared/spec/buildpack.md 4): `$1` its layers dir, `$2` the platform dir, `$3`
 * its plan, cwd the app dir, as the build user, output streamed. A bin/build that cannot run or exits non-zero
 * ends the build with exit code 51, as in the Go lifecycle.
 */
import { join } from "node:path";
import { ExitCode } from "../exit-codes.js";
import { notExecutable, runExecutable } from "../modules/run.js";
import type { Module } from "../modules/store.js";
import { buildpackError } from "./errors.js";

export interface BuildCommand {
  readonly buildpack: Module;
  readonly layersDir: string;
  readonly platformDir: string;
  readonly planPath: string;
  readonly appDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user?: { readonly uid: number; readonly gid: number };
  readonly output: "inherit" | "collect";
}

/** Runs bin/build; returns its output when collected (else ""). */
export async function runBuild(cmd: BuildCommand): Promise<string> {
  const bp = cmd.buildpack;
  const path = join(bp.dir, "bin", "build");
  const why = await notExecutable(path);
  if (why) throw buildpackError(bp, `cannot run bin/build: ${why}`, ExitCode.buildpackBuildFailed);
  let result: Awaited<ReturnType<typeof runExecutable>>;
  try {
    result = await runExecutable({
      path,
      args: [cmd.layersDir, cmd.platformDir, cmd.planPath],
      env: cmd.env,
      cwd: cmd.appDir,
      ...(cmd.user ? { user: cmd.user } : {}),
      output: cmd.output,
    });
  } catch (err) {
    throw buildpackError(
      bp,
      `cannot run bin/build: ${path}: ${(err as Error).message}`,
      ExitCode.buildpackBuildFailed,
    );
  }
  if (result.exitCode !== 0) {
    throw buildpackError(
      bp,
      `bin/build failed with exit code ${result.exitCode}`,
      ExitCode.buildpackBuildFailed,
    );
  }
  return result.output;
}
