/** A workspace: podman named volumes, the steps run on them, and a helper container for put/get. */
import type { Readable } from "node:stream";
import {
  BUILD_LABEL,
  type ContainerStep,
  DriverError,
  type StepIO,
  type StepResult,
  safeObjectName,
  uniqueName,
  type VolumeSpec,
  volumePath,
  type Workspace,
  type WorkspaceSpec,
} from "@cnbp/core/drivers";
import { copyIn, copyOut, createHelper, helperMount } from "./helper.js";
import type { StepNetwork } from "./network.js";
import { DRIVER_NAME, failed, type PodmanCli, podmanOk } from "./podman.js";
import { runStep } from "./run.js";
import { libpod } from "./service.js";
import { TAR_END, tarHeader } from "./tar.js";

interface Volume {
  readonly name: string;
  readonly podmanName: string;
  readonly persistent: boolean;
  /** Created by this workspace (not a reused persistent one). */
  readonly created: boolean;
}

export async function createWorkspace(
  cli: PodmanCli,
  spec: WorkspaceSpec,
  network: StepNetwork,
): Promise<Workspace> {
  const labels = { ...spec.labels, [BUILD_LABEL]: spec.buildId };
  const helper = uniqueName("cnbp", spec.buildId, "helper");
  let volumes: Volume[] = [];
  try {
    const made = await Promise.allSettled(
      spec.volumes.map((v) => createVolume(cli, v, spec.buildId, labels)),
    );
    volumes = made.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failure = made.find((r) => r.status === "rejected");
    if (failure) throw failure.reason;
    await createHelper(
      cli,
      helper,
      labels,
      volumes.map((v) => v.podmanName),
    );
    for (const [i, v] of spec.volumes.entries())
      if (v.owner && volumes[i]?.created) await chownRoot(cli, helper, helperMount(i), v.owner);
  } catch (err) {
    await removeAll(
      cli,
      "workspace",
      helper,
      volumes.filter((v) => v.created).map((v) => v.podmanName),
    );
    if (err instanceof DriverError && err.code === "CNBP_DRIVER_FAILED") throw err;
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, "workspace", String((err as Error).message), {
      cause: err,
    });
  }
  return new PodmanWorkspace(cli, spec.buildId, labels, volumes, helper, network);
}

/** Creates the volume of `v`, or reuses its persistent volume when that exists: one call either way. */
async function createVolume(
  cli: PodmanCli,
  v: VolumeSpec,
  buildId: string,
  labels: Readonly<Record<string, string>>,
): Promise<Volume> {
  const podmanName = v.persistentName
    ? safeObjectName(v.persistentName)
    : uniqueName("cnbp", buildId, v.name);
  const r = await libpod(cli, "workspace", "POST", "/volumes/create", {
    Name: podmanName,
    Label: { ...labels, ...v.labels },
  });
  const reused = r.exitCode !== 0 && !!v.persistentName && /already exists/i.test(r.stderr);
  if (r.exitCode !== 0 && !reused) throw failed("workspace", r);
  return { name: v.name, podmanName, persistent: !!v.persistentName, created: !reused };
}

/**
 * Removes the helper container (while the `removals` of other containers end), then the volumes at once;
 * never throws: a volume already gone is fine, anything left is what a leak check reports.
 */
async function removeAll(
  cli: PodmanCli,
  operation: string,
  helper: string,
  volumes: readonly string[],
  removals: Iterable<Promise<void>> = [],
): Promise<void> {
  const quietly = (p: Promise<unknown>) => p.catch(() => {});
  await Promise.all([
    quietly(libpod(cli, operation, "DELETE", `/containers/${helper}?force=true&ignore=true&timeout=0`)),
    ...removals,
  ]);
  await Promise.all(
    volumes.map((v) => quietly(libpod(cli, operation, "DELETE", `/volumes/${v}?force=true`))),
  );
}

/** Sets a volume root's owner by copying a tar whose `./` entry has that owner. */
async function chownRoot(cli: PodmanCli, helper: string, dir: string, owner: string): Promise<void> {
  const [uid = "0", gid = uid] = owner.split(":");
  const root = tarHeader({
    name: "./",
    type: "directory",
    size: 0,
    mode: 0o755,
    uid: Number(uid),
    gid: Number(gid),
    mtime: Math.floor(Date.now() / 1000),
  });
  await podmanOk(cli, "workspace", ["cp", "--archive=false", "-", `${helper}:${dir}`], {
    input: Buffer.concat([root, TAR_END]),
  });
}

class PodmanWorkspace implements Workspace {
  private disposed = false;
  /** Step containers being removed: dispose awaits them before the volumes they mount go. */
  private readonly removals = new Set<Promise<void>>();

  constructor(
    private readonly cli: PodmanCli,
    private readonly buildId: string,
    private readonly labels: Readonly<Record<string, string>>,
    private readonly volumes: readonly Volume[],
    private readonly helper: string,
    private readonly network: StepNetwork,
  ) {}

  async run(step: ContainerStep, io: StepIO): Promise<StepResult> {
    this.check("workspace.run");
    return runStep(
      {
        cli: this.cli,
        buildId: this.buildId,
        labels: this.labels,
        network: this.network,
        volume: (n) => this.volumes.find((v) => v.name === n)?.podmanName,
        remove: (name) => this.removeLater(name),
      },
      step,
      io,
    );
  }

  async put(volume: string, path: string, tar: Readable): Promise<void> {
    this.check("workspace.put");
    await copyIn(this.cli, this.helper, this.inHelper("workspace.put", volume, path), tar);
  }

  async get(volume: string, path: string): Promise<Readable> {
    this.check("workspace.get");
    return copyOut(this.cli, this.helper, this.inHelper("workspace.get", volume, path), `${volume}:${path}`);
  }

  async dispose(opts: { keep?: readonly string[]; removePersistent?: boolean } = {}): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const doomed = this.volumes
      .filter((v) => !opts.keep?.includes(v.name) && (!v.persistent || opts.removePersistent))
      .map((v) => v.podmanName);
    await removeAll(this.cli, "workspace.dispose", this.helper, doomed, this.removals);
  }

  private removeLater(container: string): void {
    const removal = libpod(
      this.cli,
      "workspace.run",
      "DELETE",
      `/containers/${container}?force=true&ignore=true&timeout=0`,
    ).then(
      () => {},
      () => {},
    );
    this.removals.add(removal);
    void removal.then(() => this.removals.delete(removal));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private check(operation: string): void {
    if (this.disposed)
      throw new DriverError("CNBP_WORKSPACE_DISPOSED", DRIVER_NAME, operation, "the workspace is disposed");
  }

  private inHelper(operation: string, volume: string, path: string): string {
    const i = this.volumes.findIndex((v) => v.name === volume);
    if (i < 0)
      throw new DriverError(
        "CNBP_UNKNOWN_VOLUME",
        DRIVER_NAME,
        operation,
        `no volume ${JSON.stringify(volume)}`,
      );
    return [helperMount(i), ...volumePath(DRIVER_NAME, operation, path)].join("/");
  }
}
