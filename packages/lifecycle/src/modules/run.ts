/**
 * Runs a module's executable (`bin/detect`, `bin/build`, `bin/generate`) the way the spec says modules run:
 * argv and environment exactly as given (nothing inherited), in a working directory, as the build user when
 * the lifecycle is root, its output streamed to the lifecycle's own (or collected), and its exit code returned.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { constants as osConstants } from "node:os";

export interface RunRequest {
  readonly path: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Run as this user (only honoured when the lifecycle is root). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** Where stdout and stderr go: the lifecycle's own streams (default), or collected and returned. */
  readonly output?: "inherit" | "collect";
}

export interface RunResult {
  readonly exitCode: number;
  /** stdout and stderr interleaved, when collected. */
  readonly output: string;
}

/** Why an executable cannot run: undefined when it exists and is executable. */
export async function notExecutable(path: string): Promise<string | undefined> {
  try {
    await access(path, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `${path} does not exist` : `${path} is not executable`;
  }
}

export function runExecutable(req: RunRequest): Promise<RunResult> {
  const asUser = req.user && process.getuid?.() === 0 && (req.user.uid !== 0 || req.user.gid !== 0);
  return new Promise((resolve, reject) => {
    const child = spawn(req.path, [...req.args], {
      cwd: req.cwd,
      env: { ...req.env },
      stdio: [
        "ignore",
        req.output === "collect" ? "pipe" : "inherit",
        req.output === "collect" ? "pipe" : "inherit",
      ],
      ...(asUser ? { uid: req.user?.uid, gid: req.user?.gid } : {}),
    });
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ exitCode: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1), output });
    });
  });
}

const signalNumber = (signal: NodeJS.Signals): number | undefined => osConstants.signals[signal];
