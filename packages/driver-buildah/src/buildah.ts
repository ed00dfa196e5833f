/** Runs the buildah CLI and turns its failures into DriverErrors that say which operation failed. */
import {
  cancelledError,
  cliUnavailable,
  commandFailed,
  DriverError,
  type DriverErrorCode,
} from "@cnbp/core/drivers";
import { execa, type Options, type ResultPromise } from "execa";

export const DRIVER_NAME = "buildah";

export interface BuildahCli {
  /** The buildah executable: a path or a name looked up on PATH. */
  readonly bin: string;
}

export interface BuildahResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `buildah ...args` to its end; never throws for a non-zero exit (callers map codes), only when buildah cannot start. */
export async function buildah(
  cli: BuildahCli,
  operation: string,
  args: readonly string[],
  opts: { readonly cancelSignal?: AbortSignal } = {},
): Promise<BuildahResult> {
  try {
    const r = await execa(cli.bin, args, {
      reject: false,
      stripFinalNewline: true,
      stdin: "ignore",
      ...opts,
    });
    if (r.isCanceled) throw cancelled(operation);
    if (r.failed && r.exitCode === undefined) throw unavailable(cli, operation, r.cause ?? r);
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  } catch (err) {
    if (err instanceof DriverError) throw err;
    throw unavailable(cli, operation, err);
  }
}

/** Starts `buildah ...args` with piped streams, for a build whose output is streamed. */
export function spawnBuildah(cli: BuildahCli, args: readonly string[], opts: Options = {}): ResultPromise {
  return execa(cli.bin, args, { reject: false, buffer: false, ...opts });
}

export const failed = (operation: string, r: BuildahResult, code?: DriverErrorCode): DriverError =>
  commandFailed(DRIVER_NAME, operation, r, code);

export const cancelled = (operation: string): DriverError => cancelledError(DRIVER_NAME, operation);

export const unavailable = (cli: BuildahCli, operation: string, cause: unknown): DriverError =>
  cliUnavailable(DRIVER_NAME, "Buildah", cli.bin, operation, cause);

/** Buildah's message when an image is absent. */
export const isNotKnown = (stderr: string): boolean => /image not known|no such image/i.test(stderr);
