/** Runs the podman CLI and turns its failures into DriverErrors that say which operation failed. */
import {
  cancelledError,
  cliUnavailable,
  commandFailed,
  DriverError,
  type DriverErrorCode,
} from "@cnbp/core/drivers";
import type { Options, ResultPromise } from "execa";

export const DRIVER_NAME = "podman";

/**
 * execa, imported on first use rather than with the driver (a sixth of a second on a build's start): a
 * rebuild goes to the API only, and never loads it.
 */
let execaModule: Promise<typeof import("execa")> | undefined;
const loadExeca = () => {
  execaModule ??= import("execa");
  return execaModule;
};

export interface PodmanCli {
  /** The podman executable: a path or a name looked up on PATH. */
  readonly bin: string;
}

export interface PodmanOptions {
  readonly input?: string | Buffer;
  /** A file whose bytes are podman's stdin. */
  readonly inputFile?: string;
  readonly cancelSignal?: AbortSignal;
}

export interface PodmanResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `podman ...args` to its end; never throws for a non-zero exit (callers map codes), only when podman cannot start. */
export async function podman(
  cli: PodmanCli,
  operation: string,
  args: readonly string[],
  opts: PodmanOptions = {},
): Promise<PodmanResult> {
  try {
    const { execa } = await loadExeca();
    const r = await execa(cli.bin, args, { reject: false, stripFinalNewline: true, ...opts });
    if (r.isCanceled) throw cancelled(operation);
    if (r.failed && r.exitCode === undefined) throw unavailable(cli, operation, r.cause ?? r);
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  } catch (err) {
    if (err instanceof DriverError) throw err;
    throw unavailable(cli, operation, err);
  }
}

/** Like `podman` but a non-zero exit throws `code` (default CNBP_DRIVER_FAILED) with podman's stderr. */
export async function podmanOk(
  cli: PodmanCli,
  operation: string,
  args: readonly string[],
  opts: PodmanOptions & { code?: DriverErrorCode } = {},
): Promise<string> {
  const { code, ...rest } = opts;
  const r = await podman(cli, operation, args, rest);
  if (r.exitCode !== 0) throw failed(operation, r, code);
  return r.stdout;
}

/**
 * Starts `podman ...args` with piped streams, for callers that stream (run, get); the process comes wrapped,
 * since awaiting it directly would wait for its end.
 */
export async function spawnPodman(
  cli: PodmanCli,
  args: readonly string[],
  opts: Options = {},
): Promise<{ proc: ResultPromise }> {
  const { execa } = await loadExeca();
  return { proc: execa(cli.bin, args, { reject: false, buffer: false, ...opts }) };
}

export const failed = (operation: string, r: PodmanResult, code?: DriverErrorCode): DriverError =>
  commandFailed(DRIVER_NAME, operation, r, code);

export const cancelled = (operation: string): DriverError => cancelledError(DRIVER_NAME, operation);

export const unavailable = (cli: PodmanCli, operation: string, cause: unknown): DriverError =>
  cliUnavailable(DRIVER_NAME, "Podman", cli.bin, operation, cause);

/** Podman's message when an image, container or volume is absent. */
export const isNotKnown = (stderr: string): boolean =>
  /not known|no such (image|container|volume)/i.test(stderr);
