/** One step: create the container, attach to its output, start it, wait for its exit code, remove it. */
import type { ContainerStep, StepIO, StepResult } from "@cnbp/core";
import { DriverError, demux, uniqueName } from "@cnbp/core/drivers";
import type { ContainerCreateOptions, MountSettings } from "dockerode";
import { DRIVER_NAME } from "./connection.js";
import { cancelled, type Engine, engineError, statusOf } from "./engine.js";

export interface RunContext {
  readonly engine: Engine;
  readonly buildId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The docker volume of a workspace volume name, or undefined when the workspace has none by that name. */
  readonly volume: (name: string) => string | undefined;
}

const OP = "workspace.run";
/** A volume starts empty: Docker must not copy the image's files at the mount target into it. */
export const NO_COPY = { NoCopy: true } as MountSettings["VolumeOptions"];
/** Seconds between SIGTERM and SIGKILL when a step is cancelled. */
const STOP_GRACE = 10;

const noImage = (image: string) =>
  new DriverError("CNBP_IMAGE_NOT_FOUND", DRIVER_NAME, OP, `no image ${JSON.stringify(image)}`, {
    hints: ["a step never pulls: pull the image first"],
  });

export async function runStep(ctx: RunContext, step: ContainerStep, io: StepIO): Promise<StepResult> {
  const { docker } = ctx.engine;
  const options = createOptions(ctx, step);
  if (io.signal?.aborted) throw cancelled(OP);
  try {
    await docker.getImage(step.image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) throw noImage(step.image);
    throw engineError(ctx.engine, OP, err);
  }
  const name = uniqueName("cnbp", ctx.buildId, "step");
  let created = false;
  try {
    const container = await docker.createContainer({ name, ...options }).catch((err: unknown) => {
      throw statusOf(err) === 404 ? noImage(step.image) : engineError(ctx.engine, OP, err);
    });
    created = true;
    const output = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    const drained = demux(output, io.stdout, io.stderr);
    let aborted = false;
    const stop = () => void container.stop({ t: STOP_GRACE }).catch(() => {});
    const onAbort = () => {
      aborted = true;
      stop();
    };
    io.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await container.start();
      // an abort while it was starting found nothing to stop yet
      if (aborted) stop();
      const [exit] = await Promise.all([container.wait() as Promise<{ StatusCode: number }>, drained]);
      if (aborted || io.signal?.aborted) throw cancelled(OP);
      return { exitCode: exit.StatusCode };
    } finally {
      io.signal?.removeEventListener("abort", onAbort);
    }
  } catch (err) {
    throw engineError(ctx.engine, OP, err);
  } finally {
    if (created)
      await docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => {});
  }
}

function createOptions(ctx: RunContext, step: ContainerStep): ContainerCreateOptions {
  const [cmd, ...args] = step.cmd;
  if (cmd === undefined)
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, "the step has no command");
  const mounts: MountSettings[] = (step.mounts ?? []).map((m) => {
    const readOnly = m.readOnly ?? false;
    if (m.type === "bind") return { Type: "bind", Source: m.source, Target: m.target, ReadOnly: readOnly };
    const source = ctx.volume(m.volume);
    if (!source)
      throw new DriverError("CNBP_UNKNOWN_VOLUME", DRIVER_NAME, OP, `no volume ${JSON.stringify(m.volume)}`);
    return {
      Type: "volume",
      Source: source,
      Target: m.target,
      ReadOnly: readOnly,
      VolumeOptions: NO_COPY,
    };
  });
  return {
    Image: step.image,
    Entrypoint: [cmd],
    Cmd: args,
    Env: Object.entries(step.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: { ...ctx.labels, ...step.labels },
    AttachStdout: true,
    AttachStderr: true,
    ...(step.user ? { User: step.user } : {}),
    ...(step.workingDir ? { WorkingDir: step.workingDir } : {}),
    HostConfig: {
      Mounts: mounts,
      ...(step.network && step.network !== "default" ? { NetworkMode: step.network } : {}),
    },
  };
}
