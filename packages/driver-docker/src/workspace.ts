/** A workspace: docker named volumes, the steps run on them, and a helper container for put/get. */
import type { Readable } from "node:stream";
import {
  BUILD_LABEL,
  type ContainerStep,
  DriverError,
  type StepIO,
  type StepResult,
  safeObjectName,
  uniqueName,
  volumePath,
  type Workspace,
  type WorkspaceSpec,
} from "@cnbp/core/drivers";
import type Docker from "dockerode";
import { DRIVER_NAME } from "./connection.js";
import { type Engine, engineError, statusOf } from "./engine.js";
import { chownRoot, copyIn, copyOut, ensureHelperImage, HELPER_IMAGE, helperMount } from "./helper.js";
import { NO_COPY, runStep } from "./run.js";

interface Volume {
  readonly name: string;
  readonly dockerName: string;
  readonly persistent: boolean;
  /** Created by this workspace (not a reused persistent one). */
  readonly created: boolean;
  readonly owner?: string;
}

export async function createWorkspace(engine: Engine, spec: WorkspaceSpec): Promise<Workspace> {
  const { docker } = engine;
  const labels = { ...spec.labels, [BUILD_LABEL]: spec.buildId };
  const volumes: Volume[] = [];
  let helper: Docker.Container | undefined;
  try {
    for (const v of spec.volumes) {
      const dockerName = v.persistentName
        ? safeObjectName(v.persistentName)
        : uniqueName("cnbp", spec.buildId, v.name);
      const reuse = v.persistentName !== undefined && (await volumeExists(docker, dockerName));
      if (!reuse) await docker.createVolume({ Name: dockerName, Labels: { ...labels, ...v.labels } });
      volumes.push({
        name: v.name,
        dockerName,
        persistent: !!v.persistentName,
        created: !reuse,
        ...(v.owner ? { owner: v.owner } : {}),
      });
    }
    await ensureHelperImage(engine);
    helper = await docker.createContainer({
      name: uniqueName("cnbp", spec.buildId, "helper"),
      Image: HELPER_IMAGE,
      Cmd: ["/cnbp-helper"],
      Labels: labels,
      HostConfig: {
        Mounts: volumes.map((v, i) => ({
          Type: "volume" as const,
          Source: v.dockerName,
          Target: helperMount(i),
          VolumeOptions: NO_COPY,
        })),
      },
    });
    for (const [i, v] of volumes.entries())
      if (v.owner && v.created) await chownRoot(engine, helper, i, v.owner);
  } catch (err) {
    if (helper) await helper.remove({ force: true }).catch(() => {});
    for (const v of volumes.filter((v) => v.created))
      await docker
        .getVolume(v.dockerName)
        .remove({ force: true })
        .catch(() => {});
    const e = engineError(engine, "workspace", err);
    if (e.code === "CNBP_DRIVER_FAILED" || e.code === "CNBP_DRIVER_UNAVAILABLE") throw e;
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, "workspace", e.message, { cause: err });
  }
  return new DockerWorkspace(engine, spec.buildId, labels, volumes, helper);
}

async function volumeExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getVolume(name).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

class DockerWorkspace implements Workspace {
  private disposed = false;

  constructor(
    private readonly engine: Engine,
    private readonly buildId: string,
    private readonly labels: Readonly<Record<string, string>>,
    private readonly volumes: readonly Volume[],
    private readonly helper: Docker.Container,
  ) {}

  async run(step: ContainerStep, io: StepIO): Promise<StepResult> {
    this.check("workspace.run");
    return runStep(
      {
        engine: this.engine,
        buildId: this.buildId,
        labels: this.labels,
        volume: (n) => this.volumes.find((v) => v.name === n)?.dockerName,
      },
      step,
      io,
    );
  }

  async put(volume: string, path: string, tar: Readable): Promise<void> {
    this.check("workspace.put");
    const { index, inside } = this.inHelper("workspace.put", volume, path);
    const owner = this.volumes[index]?.owner;
    await copyIn(this.engine, this.helper, helperMount(index), inside, tar, owner);
  }

  async get(volume: string, path: string): Promise<Readable> {
    this.check("workspace.get");
    const { inside } = this.inHelper("workspace.get", volume, path);
    return copyOut(this.engine, this.helper, inside, `${volume}:${path}`);
  }

  async dispose(opts: { keep?: readonly string[]; removePersistent?: boolean } = {}): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.helper.remove({ force: true }).catch(() => {});
    const doomed = this.volumes.filter(
      (v) => !opts.keep?.includes(v.name) && (!v.persistent || opts.removePersistent),
    );
    // never throws: a volume already gone is fine, anything left is what a leak check reports
    for (const v of doomed)
      await this.engine.docker
        .getVolume(v.dockerName)
        .remove({ force: true })
        .catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private check(operation: string): void {
    if (this.disposed)
      throw new DriverError("CNBP_WORKSPACE_DISPOSED", DRIVER_NAME, operation, "the workspace is disposed");
  }

  /** The volume's index and `path` as the helper sees it; throws for an unknown volume or a path escaping it. */
  private inHelper(operation: string, volume: string, path: string): { index: number; inside: string } {
    const index = this.volumes.findIndex((v) => v.name === volume);
    if (index < 0)
      throw new DriverError(
        "CNBP_UNKNOWN_VOLUME",
        DRIVER_NAME,
        operation,
        `no volume ${JSON.stringify(volume)}`,
      );
    return { index, inside: [helperMount(index), ...volumePath(DRIVER_NAME, operation, path)].join("/") };
  }
}
