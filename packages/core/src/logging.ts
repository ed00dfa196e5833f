/**
 * Structured logs with pino, always to stderr: stdout is for results. Child loggers carry context
 * such as `{ phase, driver }`.
 */
import { pino } from "pino";
import { token } from "./di.js";

export type Logger = pino.Logger;
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";

export const LOGGER = token<Logger>("Logger");

export function createLogger(opts: { level?: LogLevel } = {}): Logger {
  return pino({ level: opts.level ?? "warn", base: undefined }, pino.destination({ fd: 2, sync: true }));
}
