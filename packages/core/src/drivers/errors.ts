/** The errors drivers throw: their messages say which driver and which operation failed first. */
import { CnbpError } from "../errors.js";

/** The codes the contracts name; the test kit checks them, so they never change meaning. */
export type DriverErrorCode =
  | "CNBP_DRIVER_UNAVAILABLE"
  | "CNBP_DRIVER_FAILED"
  | "CNBP_BUILD_FAILED"
  | "CNBP_IMAGE_NOT_FOUND"
  | "CNBP_REGISTRY_AUTH"
  | "CNBP_UNSUPPORTED"
  | "CNBP_UNKNOWN_VOLUME"
  | "CNBP_UNSAFE_PATH"
  | "CNBP_NOT_FOUND"
  | "CNBP_VOLUME_IN_USE"
  | "CNBP_WORKSPACE_DISPOSED"
  | "CNBP_CANCELLED";

/** `driver <name>: <operation>: <message>`, e.g. `driver podman: workspace.put: no volume "cache"`. */
export class DriverError extends CnbpError {
  constructor(
    override readonly code: DriverErrorCode,
    readonly driver: string,
    readonly operation: string,
    message: string,
    extra: { hints?: readonly string[]; cause?: unknown } = {},
  ) {
    super(code, `driver ${driver}: ${operation}: ${message}`, extra);
  }
}

/** The last non-empty lines of an engine's output: a failure's hints. */
export function lastLines(text: string, n = 10): string[] {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .slice(-n);
}

/** The caller's signal stopped `operation`. */
export function cancelledError(driver: string, operation: string): DriverError {
  return new DriverError("CNBP_CANCELLED", driver, operation, "cancelled");
}

/** What a finished command of an engine's CLI said. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A command of an engine's CLI (`driver` is also the executable's usual name) that exited non-zero: its
 * output's last line is the message, its last lines the hints.
 */
export function commandFailed(
  driver: string,
  operation: string,
  r: CommandResult,
  code: DriverErrorCode = "CNBP_DRIVER_FAILED",
): DriverError {
  const lines = lastLines(r.stderr || r.stdout);
  return new DriverError(code, driver, operation, lines.at(-1) ?? `${driver} exited with ${r.exitCode}`, {
    hints: lines,
  });
}

/** An engine's CLI that could not be started: `product` is what to install ("Podman"). */
export function cliUnavailable(
  driver: string,
  product: string,
  bin: string,
  operation: string,
  cause: unknown,
): DriverError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new DriverError("CNBP_DRIVER_UNAVAILABLE", driver, operation, `cannot run ${bin}: ${why}`, {
    hints: [`tried the ${driver} executable "${bin}"; install ${product} or set the driver's "bin" option`],
    cause,
  });
}
