/**
 * A build's workspace on Kubernetes: a PersistentVolumeClaim per volume, a Pod per step, and a helper Pod for
 * each `put`/`get`, which execs `tar` with the archive on its stdin or stdout (as `kubectl cp` does): files
 * cross no shared filesystem, only the API server's exec stream.
 */
import { createReadStream } from "node:fs";
import { posix } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import {
  type ContainerStep,
  DriverError,
  type StepIO,
  type StepResult,
  type VolumeSpec,
  volumePath,
  type Workspace,
  type WorkspaceSpec,
  withCheckedPutTar,
} from "@cnbp/core";
import { type Cluster, isNotFound } from "./cluster.js";
import { podExec } from "./exec.js";
import type { K8sImages } from "./images.js";
import {
  CONTAINER,
  helperMount,
  helperPod,
  type PodOptions,
  SECRET_ENV,
  stepPod,
  stepSecret,
  volumeClaim,
} from "./manifests.js";
import { BUILD_LABEL, DRIVER_NAME, dnsLabel, kubeLabels, objectName } from "./names.js";
import { createPod, deletePod, runPod, waitStarted } from "./pods.js";

export interface WorkspaceSettings extends PodOptions {
  /** An image with /bin/sh, tar, mkdir and chown, for put, get and volume owners. */
  readonly helperImage: string;
  readonly storageClass?: string;
  readonly volumeSize: string;
  readonly startTimeoutMs: number;
  /** Whether the cluster gives a container's stdout and stderr apart (PodLogsQuerySplitStreams). */
  readonly splitLogs: boolean;
}

interface Claim {
  readonly spec: VolumeSpec;
  readonly claimName: string;
}

export async function createWorkspace(
  cluster: Cluster,
  images: K8sImages,
  settings: WorkspaceSettings,
  spec: WorkspaceSpec,
): Promise<Workspace> {
  const labels = { ...spec.labels, [BUILD_LABEL]: spec.buildId };
  const ws = new K8sWorkspace(cluster, images, settings, spec.buildId, labels);
  try {
    await ws.createVolumes(spec.volumes);
  } catch (err) {
    await ws.dispose();
    throw err;
  }
  return ws;
}

class K8sWorkspace implements Workspace {
  private readonly claims = new Map<string, Claim>();
  /** Pods of running steps and helpers, deleted by dispose. */
  private readonly pods = new Set<string>();
  private disposed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly images: K8sImages,
    private readonly settings: WorkspaceSettings,
    private readonly buildId: string,
    private readonly labels: Readonly<Record<string, string>>,
  ) {}

  async createVolumes(volumes: readonly VolumeSpec[]): Promise<void> {
    for (const v of volumes) {
      const claimName = v.persistentName ? dnsLabel(v.persistentName, 63) : objectName(this.buildId, v.name);
      this.claims.set(v.name, { spec: v, claimName });
      if (v.persistentName && (await this.claimExists(claimName))) continue;
      const all = { ...this.labels, ...v.labels };
      try {
        await this.cluster.core.createNamespacedPersistentVolumeClaim({
          namespace: this.cluster.namespace,
          body: volumeClaim(
            { name: claimName, labels: all, kubeLabels: kubeLabels(all) },
            this.settings.volumeSize,
            this.settings.storageClass,
          ),
        });
      } catch (err) {
        this.claims.delete(v.name);
        throw this.cluster.fail("workspace", err);
      }
    }
    const owned = [...this.claims.values()].filter((c) => c.spec.owner);
    if (owned.length === 0) return;
    const script = owned.map((c, i) => `chown ${c.spec.owner} ${helperMount(i)}`).join(" && ");
    await this.withHelper(
      "workspace",
      owned.map((c) => c.claimName),
      async (pod) => {
        const err: Buffer[] = [];
        const code = await podExec(this.cluster.kc, {
          namespace: this.cluster.namespace,
          pod,
          container: CONTAINER,
          command: ["/bin/sh", "-c", script],
          stdout: () => {},
          stderr: (c) => err.push(c),
        });
        if (code !== 0)
          throw new DriverError(
            "CNBP_DRIVER_FAILED",
            DRIVER_NAME,
            "workspace",
            `cannot give the volumes their owners: ${Buffer.concat(err).toString().trim()}`,
          );
      },
    );
  }

  async run(step: ContainerStep, io: StepIO): Promise<StepResult> {
    const op = "workspace.run";
    this.checkOpen(op);
    if (step.network === "none")
      throw new DriverError(
        "CNBP_UNSUPPORTED",
        DRIVER_NAME,
        op,
        'network "none": a Pod always has its cluster\'s network (restrict it with a NetworkPolicy)',
      );
    const claims = new Map<string, string>();
    for (const m of step.mounts ?? []) {
      if (m.type === "bind")
        throw new DriverError(
          "CNBP_UNSUPPORTED",
          DRIVER_NAME,
          op,
          `cannot mount the host directory ${m.source}: a Pod runs on a cluster node, not this machine`,
          {
            hints: ["put the files into a workspace volume instead"],
          },
        );
      claims.set(m.volume, this.claim(op, m.volume).claimName);
    }
    if (step.user !== undefined && !/^\d+(:\d+)?$/.test(step.user))
      throw new DriverError(
        "CNBP_UNSUPPORTED",
        DRIVER_NAME,
        op,
        `user "${step.user}": Kubernetes runs a container as a numeric uid[:gid]`,
      );
    if (io.signal?.aborted)
      throw new DriverError("CNBP_CANCELLED", DRIVER_NAME, op, "the step was cancelled before it started");
    const image = await this.images.podImage(step.image);
    if (!image)
      throw new DriverError(
        "CNBP_IMAGE_NOT_FOUND",
        DRIVER_NAME,
        op,
        `no image ${step.image} in its registry`,
        {
          hints: ["a cluster pulls steps' images from a registry: push the image there first"],
        },
      );
    const name = objectName(this.buildId, step.cmd[0]?.split("/").pop() ?? "step");
    const secretValues = Object.fromEntries(
      Object.entries(step.env ?? {}).filter(([k]) => SECRET_ENV.includes(k)),
    );
    const secretName = Object.keys(secretValues).length > 0 ? `${name}-env` : undefined;
    const labels = { ...this.labels, ...step.labels };
    const meta = (n: string) => ({ name: n, labels, kubeLabels: kubeLabels(labels) });
    if (secretName)
      await this.cluster.core
        .createNamespacedSecret({
          namespace: this.cluster.namespace,
          body: stepSecret(meta(secretName), secretValues),
        })
        .catch((err: unknown) => {
          throw this.cluster.fail(op, err);
        });
    try {
      const pod = stepPod({
        meta: meta(name),
        step: { ...step, image },
        claims,
        ...(secretName ? { secretName } : {}),
        options: this.settings,
      });
      this.pods.add(name);
      const exitCode = await runPod(
        this.cluster,
        pod,
        io,
        {
          what: `step ${step.cmd[0] ?? ""}`.trim(),
          operation: op,
          startTimeoutMs: this.settings.startTimeoutMs,
          ...(io.signal ? { signal: io.signal } : {}),
        },
        this.settings.splitLogs,
      );
      return { exitCode };
    } finally {
      this.pods.delete(name);
      if (secretName) await this.deleteSecret(secretName);
    }
  }

  async put(volume: string, path: string, tar: Readable): Promise<void> {
    const op = "workspace.put";
    this.checkOpen(op);
    const { claimName } = this.claim(op, volume);
    const dir = posix.join(helperMount(0), ...volumePath(DRIVER_NAME, op, path));
    await withCheckedPutTar(tar, DRIVER_NAME, (file) =>
      this.withHelper(op, [claimName], async (pod) => {
        const err: Buffer[] = [];
        const code = await podExec(this.cluster.kc, {
          namespace: this.cluster.namespace,
          pod,
          container: CONTAINER,
          command: ["/bin/sh", "-c", 'mkdir -p "$1" && tar -x -p -f - -C "$1"', "sh", dir],
          stdin: createReadStream(file),
          stdout: () => {},
          stderr: (c) => err.push(c),
        });
        if (code !== 0)
          throw new DriverError(
            "CNBP_DRIVER_FAILED",
            DRIVER_NAME,
            op,
            `tar in the helper Pod failed (${code}): ${Buffer.concat(err).toString().trim()}`,
          );
      }),
    );
  }

  async get(volume: string, path: string): Promise<Readable> {
    const op = "workspace.get";
    this.checkOpen(op);
    const { claimName } = this.claim(op, volume);
    const full = posix.join(helperMount(0), ...volumePath(DRIVER_NAME, op, path));
    const pod = await this.startHelper(op, [claimName]);
    const exec = (command: string[], stdout: (c: Buffer) => void, stderr: (c: Buffer) => void) =>
      podExec(this.cluster.kc, {
        namespace: this.cluster.namespace,
        pod,
        container: CONTAINER,
        command,
        stdout,
        stderr,
      });
    try {
      if (
        (await exec(
          ["/bin/sh", "-c", 'test -e "$1"', "sh", full],
          () => {},
          () => {},
        )) !== 0
      )
        throw new DriverError("CNBP_NOT_FOUND", DRIVER_NAME, op, `no ${path} in volume "${volume}"`);
    } catch (err) {
      await this.stopHelper(pod);
      throw err;
    }
    const out = new PassThrough();
    const err: Buffer[] = [];
    const parent = posix.dirname(full);
    const base = posix.basename(full);
    exec(
      ["tar", "-c", "-f", "-", "-C", parent, base],
      (c) => out.write(c),
      (c) => err.push(c),
    )
      .then((code) => {
        if (code === 0) out.end();
        else
          out.destroy(
            new DriverError(
              "CNBP_DRIVER_FAILED",
              DRIVER_NAME,
              op,
              `tar in the helper Pod failed (${code}): ${Buffer.concat(err).toString().trim()}`,
            ),
          );
      })
      .catch((e: unknown) => out.destroy(e as Error));
    // the helper goes when the stream ends or its reader destroys it (deleting the Pod ends the exec)
    out.once("close", () => void this.stopHelper(pod));
    return out;
  }

  async dispose(
    opts: { readonly keep?: readonly string[]; readonly removePersistent?: boolean } = {},
  ): Promise<void> {
    this.disposed = true;
    for (const pod of [...this.pods]) await this.stopHelper(pod);
    for (const [name, c] of this.claims) {
      if (opts.keep?.includes(name) || (c.spec.persistentName && !opts.removePersistent)) continue;
      try {
        await this.cluster.core.deleteNamespacedPersistentVolumeClaim({
          name: c.claimName,
          namespace: this.cluster.namespace,
        });
      } catch (err) {
        if (!isNotFound(err)) throw this.cluster.fail("workspace.dispose", err);
      }
    }
    this.claims.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private checkOpen(op: string): void {
    if (this.disposed)
      throw new DriverError("CNBP_WORKSPACE_DISPOSED", DRIVER_NAME, op, "the workspace was disposed");
  }

  private claim(op: string, volume: string): Claim {
    const c = this.claims.get(volume);
    if (!c)
      throw new DriverError("CNBP_UNKNOWN_VOLUME", DRIVER_NAME, op, `no volume "${volume}" in the workspace`);
    return c;
  }

  private async claimExists(name: string): Promise<boolean> {
    try {
      await this.cluster.core.readNamespacedPersistentVolumeClaim({
        name,
        namespace: this.cluster.namespace,
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.cluster.fail("workspace", err);
    }
  }

  private async withHelper<T>(
    op: string,
    claims: readonly string[],
    use: (pod: string) => Promise<T>,
  ): Promise<T> {
    const pod = await this.startHelper(op, claims);
    try {
      return await use(pod);
    } finally {
      await this.stopHelper(pod);
    }
  }

  /** Starts a helper Pod with `claims` mounted and resolves to its name once its container runs. */
  private async startHelper(op: string, claims: readonly string[]): Promise<string> {
    const name = objectName(this.buildId, "files");
    const meta = { name, labels: this.labels, kubeLabels: kubeLabels(this.labels) };
    const w = {
      what: "the helper Pod for files",
      operation: op,
      startTimeoutMs: this.settings.startTimeoutMs,
    };
    this.pods.add(name);
    try {
      await createPod(this.cluster, helperPod(meta, this.settings.helperImage, claims, this.settings), w);
      await waitStarted(this.cluster, name, w);
      return name;
    } catch (err) {
      await this.stopHelper(name);
      throw err;
    }
  }

  private async stopHelper(name: string): Promise<void> {
    await deletePod(this.cluster, name, 0).catch(() => {});
    this.pods.delete(name);
  }

  private async deleteSecret(name: string): Promise<void> {
    await this.cluster.core
      .deleteNamespacedSecret({ name, namespace: this.cluster.namespace })
      .catch(() => {});
  }
}
