/** One step: create the container, attach to it streaming its output, read its exit code, remove it. */
import type { Readable } from "node:stream";
import type { ContainerStep, StepIO, StepResult } from "@cnbp/core";
import { DriverError } from "@cnbp/core";
import { labelArgs, uniqueName } from "./names.js";
import { cancelled, DRIVER_NAME, failed, type PodmanCli, podman, podmanOk, spawnPodman } from "./podman.js";

export interface RunContext {
  readonly cli: PodmanCli;
  readonly buildId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The podman volume of a workspace volume name, or undefined when the workspace has none by that name. */
  readonly volume: (name: string) => string | undefined;
}

const OP = "workspace.run";

export async function runStep(ctx: RunContext, step: ContainerStep, io: StepIO): Promise<StepResult> {
  const args = createArgs(ctx, step);
  if (io.signal?.aborted) throw cancelled(OP);
  const exists = await podman(ctx.cli, OP, ["image", "exists", step.image]);
  if (exists.exitCode !== 0)
    throw new DriverError("CNBP_IMAGE_NOT_FOUND", DRIVER_NAME, OP, `no image ${JSON.stringify(step.image)}`, {
      hints: ["a step never pulls: pull the image first"],
    });
  const name = uniqueName("cnbp", ctx.buildId, "step");
  try {
    const created = await podman(ctx.cli, OP, ["create", "--name", name, ...args]);
    if (created.exitCode !== 0)
      throw failed(OP, created, /image not known/i.test(created.stderr) ? "CNBP_IMAGE_NOT_FOUND" : undefined);
    await attach(ctx.cli, name, io);
    const state = await podmanOk(ctx.cli, OP, [
      "inspect",
      "--format",
      "{{.State.Status}} {{.State.ExitCode}}",
      name,
    ]);
    const [status, code] = state.trim().split(" ");
    if (status !== "exited" && status !== "stopped")
      throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, `the container did not run (${status})`);
    return { exitCode: Number.parseInt(code ?? "", 10) };
  } finally {
    await podman(ctx.cli, OP, ["rm", "--force", "--ignore", "--time", "0", name]).catch(() => {});
  }
}

/** `podman start --attach`, output to the sinks; an abort stops the container (SIGTERM, SIGKILL after 10 s). */
async function attach(cli: PodmanCli, name: string, io: StepIO): Promise<void> {
  const proc = spawnPodman(cli, ["start", "--attach", name], { stdin: "ignore" });
  const drain = (stream: Readable | null, sink: StepIO["stdout"]) =>
    new Promise<void>((resolve) => {
      if (!stream) return resolve();
      stream.on("data", (chunk: Buffer) => sink.write(chunk));
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
    await Promise.all([
      proc,
      drain(proc.stdout as Readable | null, io.stdout),
      drain(proc.stderr as Readable | null, io.stderr),
    ]);
    if (aborted || io.signal?.aborted) throw cancelled(OP);
  } finally {
    io.signal?.removeEventListener("abort", onAbort);
  }
}

function createArgs(ctx: RunContext, step: ContainerStep): string[] {
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
