/**
 * How the selected process is executed (platform.md 10): a direct process is its command found on the app's
 * PATH; any other goes through one `bash -c` script that sources the profile.d scripts and `<app>/.profile`,
 * changes to the working dir and execs the command.
 */
import { accessSync, constants, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { SelectedProcess } from "./select.js";

/** An `execve` to make: `file` with `argv` (argv[0] included) and `env`, from `cwd`. */
export interface ExecPlan {
  readonly file: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export const BASH = "/bin/bash";

const isExecutableFile = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** `command` as execve needs it: a path with a `/` from the app dir, else the first executable on PATH. */
export function lookPath(command: string, path: string, appDir: string): string | undefined {
  if (command.includes("/")) {
    const file = resolve(appDir, command);
    return isExecutableFile(file) ? file : undefined;
  }
  return path
    .split(":")
    .map((dir) => join(dir || ".", command))
    .map((file) => resolve(appDir, file))
    .find(isExecutableFile);
}

export function directExec(
  p: SelectedProcess,
  env: Readonly<Record<string, string>>,
  appDir: string,
): ExecPlan {
  const file = lookPath(p.command, env.PATH ?? "", appDir);
  if (!file) {
    throw new LifecycleError(
      ExitCode.launch,
      `${describe(p)}: command "${p.command}" not found${p.command.includes("/") ? "" : ` on PATH ${env.PATH ?? "(unset)"}`}`,
    );
  }
  return { file, argv: [p.command, ...p.args], env, cwd: p.workingDir ?? appDir };
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * `bash -c <script> <self> <command> <args...>`. With no args the command is a bash script string; otherwise
 * bash evaluates each token (so `$PORT` in a token is expanded) and execs the result.
 */
export function shellExec(
  p: SelectedProcess,
  profiles: readonly string[],
  self: string,
  env: Readonly<Record<string, string>>,
  appDir: string,
): ExecPlan {
  if (!isExecutableFile(BASH)) {
    throw new LifecycleError(
      ExitCode.launch,
      `${describe(p)} runs through bash, and this image has no ${BASH}: start a direct process instead (/cnb/lifecycle/launcher -- <command> [args...])`,
    );
  }
  const tokens = ['"$(eval echo \\"$0\\")"', ...p.args.map((_, i) => `"$(eval echo \\"\${${i + 1}}\\")"`)];
  const run = p.args.length === 0 ? 'exec bash -c "$@"' : `exec bash -c '${tokens.join(" ")}' "\${@:1}"`;
  const script = [
    ...profiles.map((file) => `source ${quote(file)}`),
    `cd ${quote(p.workingDir ?? appDir)}`,
    run,
  ].join("\n");
  return { file: BASH, argv: ["bash", "-c", script, self, p.command, ...p.args], env, cwd: appDir };
}

const describe = (p: SelectedProcess) => (p.type ? `process type "${p.type}"` : "the given process");
