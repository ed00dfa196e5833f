/**
 * One step in as few podman calls as possible: `podman run` (create, start and attach in one process),
 * streaming its output, whose exit code is the container's unless podman may have failed; then the container's
 * removal through the API.
 */
import type { Readable } from "node:stream";
import type { ContainerStep, StepIO, StepResult } from "@cnbp/core/drivers";
import { DriverError } from "@cnbp/core/drivers";
import { labelArgs, uniqueName } from "./names.js";
import {
  cancelled,
  DRIVER_NAME,
  failed,
  isNotKnown,
  lastLines,
  type PodmanCli,
  podman,
  spawnPodman,
} from "./podman.js";
import { libpod } from "./service.js";

export interface RunContext {
  readonly cli: PodmanCli;
  readonly buildId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The podman volume of a workspace volume name, or undefined when the workspace has none by that name. */
  readonly volume: (name: string) => string | undefined;
}

const OP = "workspace.run";

/** Exit codes `podman run` also uses for its own failures (125) and for a command it could not start (126, 127). */
const PODMAN_CODES = new Set([125, 126, 127]);

/** How much of the step's stderr is kept to explain a podman failure. */
const STDERR_TAIL_BYTES = 8192;

export async function runStep(ctx: RunContext, step: ContainerStep, io: StepIO): Promise<StepResult> {
  const args = runArgs(ctx, step);
  if (io.signal?.aborted) throw cancelled(OP);
  const name = uniqueName("cnbp", ctx.buildId, "step");
  try {
    const { exitCode, stderrTail } = await attach(ctx.cli, ["run", "--name", name, ...args], name, io);
    if (exitCode !== undefined && !PODMAN_CODES.has(exitCode)) return { exitCode };
    return { exitCode: await recordedExitCode(ctx.cli, name, step.image, exitCode, stderrTail) };
  } finally {
    await libpod(ctx.cli, OP, "DELETE", `/containers/${name}?force=true&ignore=true&timeout=0`).catch(
      () => {},
    );
  }
}

/**
 * The exit code podman recorded for the container, asked when `podman run`'s own code cannot tell a container
 * exit from a podman failure: no container means podman failed before creating it.
 */
async function recordedExitCode(
  cli: PodmanCli,
  name: string,
  image: string,
  runCode: number | undefined,
  stderrTail: string,
): Promise<number> {
  const state = await podman(cli, OP, [
    "container",
    "inspect",
    "--format",
    "{{.State.Status}} {{.State.ExitCode}}",
    name,
  ]);
  if (state.exitCode !== 0) {
    if (/image not known/i.test(stderrTail))
      throw new DriverError("CNBP_IMAGE_NOT_FOUND", DRIVER_NAME, OP, `no image ${JSON.stringify(image)}`, {
        hints: ["a step never pulls: pull the image first"],
      });
    if (!isNotKnown(state.stderr)) throw failed(OP, state);
    throw failed(OP, { exitCode: runCode ?? 1, stdout: "", stderr: stderrTail });
  }
  const [status, code] = state.stdout.trim().split(" ");
  if (status !== "exited" && status !== "stopped")
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, `the container did not run (${status})`, {
      hints: lastLines(stderrTail),
    });
  return Number.parseInt(code ?? "", 10);
}

/** Runs `podman ...args` with its output to the sinks; an abort stops container `name` (SIGTERM, SIGKILL after 10 s). */
async function attach(
  cli: PodmanCli,
  args: readonly string[],
  name: string,
  io: StepIO,
): Promise<{ exitCode: number | undefined; stderrTail: string }> {
  const { proc } = await spawnPodman(cli, args, { stdin: "ignore" });
  let tail = Buffer.alloc(0);
  const drain = (stream: Readable | null, sink: StepIO["stdout"], keep: boolean) =>
    new Promise<void>((resolve) => {
      if (!stream) return resolve();
      stream.on("data", (chunk: Buffer) => {
        sink.write(chunk);
        if (keep) tail = Buffer.concat([tail, chunk]).subarray(-STDERR_TAIL_BYTES);
      });
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    void podman(cli, OP, ["stop", "--time", "10", name]).catch(() => {});
  };
  io.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const [r] = await Promise.all([
      proc,
      drain(proc.stdout as Readable | null, io.stdout, false),
      drain(proc.stderr as Readable | null, io.stderr, true),
    ]);
    if (aborted || io.signal?.aborted) throw cancelled(OP);
    // no exit code: podman ended by a signal or never started
    return { exitCode: r.exitCode, stderrTail: tail.toString() };
  } finally {
    io.signal?.removeEventListener("abort", onAbort);
  }
}

function runArgs(ctx: RunContext, step: ContainerStep): string[] {
  const args = ["--pull", "never", ...labelArgs({ ...ctx.labels, ...step.labels })];
  if (step.user) args.push("--user", step.user);
  for (const [k, v] of Object.entries(step.env ?? {})) args.push("--env", `${k}=${v}`);
  for (const m of step.mounts ?? []) {
    const ro = m.readOnly ? ":ro" : "";
    if (m.type === "bind") args.push("--volume", `${m.source}:${m.target}${ro}`);
    else {
      const vol = ctx.volume(m.volume);
      if (!vol)
        throw new DriverError(
          "CNBP_UNKNOWN_VOLUME",
          DRIVER_NAME,
          OP,
          `no volume ${JSON.stringify(m.volume)}`,
        );
      args.push("--volume", `${vol}:${m.target}${ro}`);
    }
  }
  if (step.network && step.network !== "default") args.push("--network", step.network);
  if (step.workingDir) args.push("--workdir", step.workingDir);
  const [cmd, ...rest] = step.cmd;
  if (cmd === undefined)
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, "the step has no command");
  args.push("--entrypoint", JSON.stringify([cmd]), step.image, ...rest);
  return args;
}
