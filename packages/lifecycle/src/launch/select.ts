/**
 * Which process the launcher starts and with which arguments (platform.md 10): `/cnb/process/<type>` names a
 * buildpack process, `launcher [--] <command> [args...]` a user-defined one.
 */
import { basename } from "node:path";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { apiAtLeast } from "../platform/api.js";
import type { LaunchBuildpack, LaunchMetadata, LaunchProcess } from "./metadata.js";

/** The process to start: `command` is what is executed, `args` follow it. */
export interface SelectedProcess {
  /** The buildpack process type; undefined for a user-defined process. */
  readonly type?: string;
  readonly command: string;
  readonly args: readonly string[];
  /** false: run through bash with the profile.d scripts. */
  readonly direct: boolean;
  readonly workingDir?: string;
}

export interface SelectionInput {
  /** The path the launcher was started as (`/cnb/process/web`, `/cnb/lifecycle/launcher`). */
  readonly self: string;
  readonly userArgs: readonly string[];
  readonly metadata: LaunchMetadata;
  readonly platformApi: string;
  /** CNB_EXEC_ENV (default `production`). */
  readonly execEnv: string;
}

const fail = (message: string): never => {
  throw new LifecycleError(ExitCode.launch, message);
};

export function selectProcess(input: SelectionInput): SelectedProcess {
  const type = basename(input.self).replace(/\.exe$/, "");
  const { processes } = input.metadata;
  if (processes.some((p) => p.type === type)) {
    const process =
      processes.find((p) => p.type === type && runsIn(p, input)) ??
      fail(`process type "${type}" is not available in the execution environment "${input.execEnv}"`);
    return buildpackProcess(process, input);
  }
  return userDefinedProcess(input.userArgs);
}

/** Platform API 0.15: a process runs where its `exec-env` is empty, has `*` or has CNB_EXEC_ENV. */
function runsIn(p: LaunchProcess, input: SelectionInput): boolean {
  if (!apiAtLeast(input.platformApi, "0.15") || !p.execEnv?.length) return true;
  return p.execEnv.includes("*") || p.execEnv.includes(input.execEnv);
}

function userDefinedProcess(args: readonly string[]): SelectedProcess {
  const [first, ...rest] = args;
  if (first === undefined) {
    return fail(
      "no process to start: run /cnb/process/<type>, or give the launcher a command: /cnb/lifecycle/launcher [--] <command> [args...]",
    );
  }
  if (first === "--" && rest.length > 0) {
    return { command: rest[0] as string, args: rest.slice(1), direct: true };
  }
  return { command: first, args: rest, direct: false };
}

/**
 * Platform API >= 0.10 (the lifecycle supports no older one): a command's extra elements are fixed args and user
 * args replace the overridable `args`; with a one-element command user args replace `args` for Buildpack API
 * >= 0.9 and are appended for older buildpacks.
 */
function buildpackProcess(p: LaunchProcess, input: SelectionInput): SelectedProcess {
  const buildpack = providerOf(p, input.metadata.buildpacks);
  const modern = buildpack === undefined || apiAtLeast(buildpack.api, "0.9");
  const [command, ...fixed] = p.command as [string, ...string[]];
  const user = input.userArgs;
  let args: readonly string[];
  if (fixed.length > 0) args = [...fixed, ...(user.length > 0 ? user : p.args)];
  else if (user.length === 0) args = p.args;
  else args = modern ? user : [...p.args, ...user];
  return {
    type: p.type,
    command,
    args,
    // Buildpack API >= 0.9 processes are always direct; older ones say so with `direct` (default false)
    direct: p.direct ?? modern,
    ...(p.workingDir ? { workingDir: p.workingDir } : {}),
  };
}

function providerOf(p: LaunchProcess, buildpacks: readonly LaunchBuildpack[]): LaunchBuildpack | undefined {
  if (p.buildpackId === undefined) return undefined;
  return (
    buildpacks.find((bp) => bp.id === p.buildpackId) ??
    fail(
      `process type "${p.type}" comes from buildpack "${p.buildpackId}", which metadata.toml does not list`,
    )
  );
}
