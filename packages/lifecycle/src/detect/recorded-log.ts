/**
 * Detection's report (outputs, results, plan trials), held back until the outcome is known: the Go lifecycle
 * shows it at the asked level when a group passes, and all of it, debug lines included, when none does.
 */
import type { Level, Log } from "../log.js";

export class RecordedLog implements Log {
  private readonly entries: { level: Level; message: string }[] = [];

  debug = (message: string) => this.entries.push({ level: "debug", message });
  info = (message: string) => this.entries.push({ level: "info", message });
  warn = (message: string) => this.entries.push({ level: "warn", message });
  error = (message: string) => this.entries.push({ level: "error", message });

  /** Writes every line held so far to `log`, which applies its own level. */
  replay(log: Log): void {
    for (const { level, message } of this.entries.splice(0)) log[level](message);
  }
}
