/**
 * The command line: parses arguments, calls core, prints the result, and turns errors into exit codes
 * (0 ok, 1 failure, 2 usage). Core never prints and never exits; this is the only place that does.
 */
import { CnbpError, UsageError } from "@cnbp/core/errors";
import { CommanderError } from "commander";
import { EXIT, type Io, type Outcome } from "./io.js";
import { createProgram } from "./program.js";

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const outcome: Outcome = { exitCode: EXIT.ok };
  const program = createProgram(io, outcome);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed its own message (help, version, or a usage error)
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const json = argv.includes("--json");
    return reportError(err, io, json);
  }
}

export function reportError(err: unknown, io: Io, json: boolean): number {
  const code = err instanceof UsageError ? EXIT.usage : EXIT.failure;
  if (err instanceof CnbpError || isCnbpShaped(err)) {
    if (json)
      io.stdout.write(
        `${JSON.stringify({ error: { code: err.code, message: err.message, hints: err.hints ?? [] } })}\n`,
      );
    else io.stderr.write(`error: ${err.message}\n${(err.hints ?? []).map((h) => `  hint: ${h}\n`).join("")}`);
    return code;
  }
  // a bug in cnbp: still no stack trace unless asked for
  const message = err instanceof Error ? err.message : String(err);
  if (json) io.stdout.write(`${JSON.stringify({ error: { code: "CNBP_INTERNAL", message } })}\n`);
  else
    io.stderr.write(
      `error: ${message}\n  hint: this is a bug in cnbp; rerun with CNBP_DEBUG=1 for details\n`,
    );
  if (process.env.CNBP_DEBUG) io.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
  return EXIT.failure;
}

/**
 * An error that is a CnbpError in all but class: a third-party driver built against its own copy of
 * @cnbp/core throws these, and they are as much the user's to act on as ours.
 */
function isCnbpShaped(err: unknown): err is CnbpError {
  const e = err as { code?: unknown; message?: unknown; hints?: unknown } | null;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof e.code === "string" &&
    e.code.startsWith("CNBP_") &&
    typeof e.message === "string" &&
    Array.isArray(e.hints ?? [])
  );
}
