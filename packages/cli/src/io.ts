/** What commands write to and report back; only main.ts binds it to the process. */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** What a command reports besides its output: its exit code (commands never touch process.exitCode). */
export interface Outcome {
  exitCode: number;
}
