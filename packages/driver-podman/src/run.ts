/**
 * One step through the API: create the container, attach to its output, start it, read its exit code once
 * its output ends. No podman process is started, which spares each step the CLI's start-up (0.3-0.5 s here).
 * The removal is the caller's (`RunContext.remove`): on Podman's bridge it takes the network's tear-down, a
 * third of a second, which need not hold up the build.
 */
import { Duplex } from "node:stream";
import {
  type ContainerStep,
  DriverError,
  demux,
  type NetworkMode,
  type StepIO,
  type StepResult,
  uniqueName,
} from "@cnbp/core/drivers";
import type { StepNetwork } from "./network.js";
import { cancelled, DRIVER_NAME, failed, type PodmanCli } from "./podman.js";
import { attachOutput, libpod } from "./service.js";

export interface RunContext {
  readonly cli: PodmanCli;
  readonly buildId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The network of a step that asks for the default one. */
  readonly network: StepNetwork;
  /** The podman volume of a workspace volume name, or undefined when the workspace has none by that name. */
  readonly volume: (name: string) => string | undefined;
  /** Removes the container `name` (force), now or later, but before the workspace's volumes go. */
  readonly remove: (name: string) => void;
}

const OP = "workspace.run";
/** Seconds between SIGTERM and SIGKILL when a step is cancelled. */
const STOP_GRACE = 10;

export async function runStep(ctx: RunContext, step: ContainerStep, io: StepIO): Promise<StepResult> {
  const spec = createSpec(ctx, step);
  if (io.signal?.aborted) throw cancelled(OP);
  const name = uniqueName("cnbp", ctx.buildId, "step");
  const created = await libpod(ctx.cli, OP, "POST", "/containers/create", { name, ...spec });
  if (created.exitCode !== 0) {
    if (/image not known/i.test(created.stderr))
      throw new DriverError(
        "CNBP_IMAGE_NOT_FOUND",
        DRIVER_NAME,
        OP,
        `no image ${JSON.stringify(step.image)}`,
        {
          hints: ["a step never pulls: pull the image first"],
        },
      );
    throw failed(OP, created);
  }
  try {
    return await attachAndStart(ctx.cli, name, io);
  } finally {
    ctx.remove(name);
  }
}

async function attachAndStart(cli: PodmanCli, name: string, io: StepIO): Promise<StepResult> {
  // the attach initialises the container (network, mounts): a command that cannot start fails here
  const output = await attachOutput(cli, OP, name);
  if (!(output instanceof Duplex)) throw notStarted(output.stderr);
  const drained = demux(output, io.stdout, io.stderr);
  let aborted = false;
  const stop = () =>
    void libpod(cli, OP, "POST", `/containers/${name}/stop?timeout=${STOP_GRACE}`).catch(() => {});
  const onAbort = () => {
    aborted = true;
    stop();
  };
  io.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const started = await libpod(cli, OP, "POST", `/containers/${name}/start`);
    if (started.exitCode !== 0) throw notStarted(started.stderr);
    // an abort while it was starting found nothing to stop yet
    if (aborted) stop();
    await drained;
    const exitCode = await exitCodeOf(cli, name);
    if (aborted || io.signal?.aborted) throw cancelled(OP);
    return { exitCode };
  } finally {
    io.signal?.removeEventListener("abort", onAbort);
    output.destroy();
  }
}

const notStarted = (reason: string) =>
  new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, "the container did not start", { hints: [reason] });

/**
 * The container's exit code once its output has ended: podman has it recorded by then (the inspect says
 * "stopped"); the wait endpoint, which also waits for the network's tear-down, only when it has not.
 */
async function exitCodeOf(cli: PodmanCli, name: string): Promise<number> {
  const inspected = await libpod(cli, OP, "GET", `/containers/${name}/json`);
  if (inspected.exitCode !== 0) throw failed(OP, inspected);
  const { State } = JSON.parse(inspected.stdout) as { State: { Status: string; ExitCode: number } };
  if (State.Status === "stopped" || State.Status === "exited") return State.ExitCode;
  const waited = await libpod(
    cli,
    OP,
    "POST",
    `/containers/${name}/wait?condition=stopped&condition=exited&interval=50ms`,
  );
  if (waited.exitCode !== 0) throw failed(OP, waited);
  return Number.parseInt(waited.stdout, 10);
}

/** The API's names for "none", "host" and "slirp4netns" are ours; no netns is Podman's default network. */
const netns = (network: Exclude<NetworkMode, "default"> | StepNetwork) =>
  network === "podman-default" ? {} : { netns: { nsmode: network } };

/** The libpod SpecGenerator of the step (the `podman run` flags' API form). */
function createSpec(ctx: RunContext, step: ContainerStep): Record<string, unknown> {
  const [cmd, ...args] = step.cmd;
  if (cmd === undefined)
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, "the step has no command");
  const binds: { destination: string; source: string; type: "bind"; options: string[] }[] = [];
  const volumes: { Name: string; Dest: string; Options: string[] }[] = [];
  for (const m of step.mounts ?? []) {
    const options = m.readOnly ? ["ro"] : [];
    if (m.type === "bind")
      binds.push({ destination: m.target, source: m.source, type: "bind", options: ["rbind", ...options] });
    else {
      const volume = ctx.volume(m.volume);
      if (!volume)
        throw new DriverError(
          "CNBP_UNKNOWN_VOLUME",
          DRIVER_NAME,
          OP,
          `no volume ${JSON.stringify(m.volume)}`,
        );
      volumes.push({ Name: volume, Dest: m.target, Options: options });
    }
  }
  return {
    image: step.image,
    entrypoint: [cmd],
    command: args,
    env: { ...step.env },
    labels: { ...ctx.labels, ...step.labels },
    mounts: binds,
    volumes,
    ...(step.user ? { user: step.user } : {}),
    ...(step.workingDir ? { work_dir: step.workingDir } : {}),
    ...netns(step.network && step.network !== "default" ? step.network : ctx.network),
  };
}
