/**
 * The lifecycle's own output: plain lines, as platforms show them to users (pack streams them). Info goes
 * to stdout like the Go lifecycle's; warnings and errors to stderr.
 */
const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];

export interface Log {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLog(
  level: string,
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Log {
  const min = Math.max(0, LEVELS.indexOf(level as Level));
  const at = (l: Level, prefix: string, to: { write(s: string): unknown }) => (message: string) => {
    if (LEVELS.indexOf(l) >= min) to.write(`${prefix}${message}\n`);
  };
  return {
    debug: at("debug", "", out),
    info: at("info", "", out),
    warn: at("warn", "Warning: ", err),
    error: at("error", "ERROR: ", err),
  };
}
