/**
 * Runs a Pod the stand-in API server accepted, for real, as a Podman pod, and keeps its `status` as a kubelet
 * would: Pending while volumes and images are checked, init containers one after the other, then the
 * containers; Succeeded or Failed with each container's exit code and reason (OOMKilled, Error, Completed).
 *
 * Why Podman's pod and container commands and not `podman kube play`: kube play always adds an infra
 * container whose pause binary (catatonit) the engine scripts do not install, it starts every container at
 * once so init containers cannot be watched one by one, and it cannot mount a Secret's files; here the pod has
 * no infra container and each container is created, started and waited for in turn.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { Container, ContainerStatus, Pod, Secret } from "./kube.js";

/** What a running pod needs from the server: its claims' Podman volumes and its Secrets. */
export interface PodContext {
  readonly podman: string;
  /** The Podman volume backing claim `name`, or undefined when the namespace has no such claim. */
  readonly claimVolume: (name: string) => string | undefined;
  readonly secret: (name: string) => Secret | undefined;
}

const now = () => new Date().toISOString();

export class PodRunner {
  /** Podman's name for the pod; containers are `<podName>-<container>`. */
  readonly podName: string;
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private readonly logPaths = new Map<string, string>();
  private stopped = false;
  /** Whether the pod or a container was created after `stop` began, so that stop removes the pod again. */
  private madeAfterStop = false;
  readonly done: Promise<void>;

  constructor(
    private readonly pod: Pod,
    private readonly ctx: PodContext,
  ) {
    const meta = pod.metadata ?? {};
    this.podName = `k8s-${meta.namespace}-${meta.name}-${randomBytes(3).toString("hex")}`;
    const deadline = pod.spec?.activeDeadlineSeconds;
    const timer =
      deadline === undefined ? undefined : setTimeout(() => void this.exceedDeadline(), deadline * 1000);
    this.done = this.run()
      .catch((err: unknown) => {
        if (!this.stopped) this.setPhase("Failed", "StandInError", String(err));
      })
      .finally(() => clearTimeout(timer));
  }

  containerName(container: string): string {
    return `${this.podName}-${container}`;
  }

  /** Whether container `name` was started (its logs and exec exist). */
  started(name: string): boolean {
    const st = this.statusOf(name);
    return st?.state.running !== undefined || st?.state.terminated !== undefined;
  }

  /** The CRI log file of container `name`, once it was created. */
  logPath(name: string): string | undefined {
    return this.logPaths.get(name);
  }

  /** Whether container `name` ran and ended, or the pod was stopped. */
  ended(name: string): boolean {
    return this.stopped || this.statusOf(name)?.state.terminated !== undefined;
  }

  running(name: string): boolean {
    return this.statusOf(name)?.state.running !== undefined;
  }

  /** Stops the pod's containers (SIGTERM, SIGKILL after `graceSeconds`) and removes everything Podman holds for it. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopped = true;
    await this.podman(["pod", "rm", "--ignore", "-f", "-t", String(graceSeconds), this.podName]);
    await this.done;
    if (this.madeAfterStop) await this.podman(["pod", "rm", "--ignore", "-f", "-t", "0", this.podName]);
    for (const clean of this.cleanups.splice(0)) await clean();
  }

  /** As the kubelet does at `activeDeadlineSeconds`: kills the containers and fails the Pod. */
  private async exceedDeadline(): Promise<void> {
    this.setPhase(
      "Failed",
      "DeadlineExceeded",
      "Pod was active on the node longer than the specified deadline",
    );
    await this.podman(["pod", "kill", this.podName]);
  }

  private statusOf(name: string): ContainerStatus | undefined {
    const s = this.pod.status;
    return [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? [])].find(
      (c) => c.name === name,
    );
  }

  private async run(): Promise<void> {
    const spec = this.pod.spec ?? {};
    const init = spec.initContainers ?? [];
    const main = spec.containers ?? [];
    const waiting = (c: Container, reason: string, message?: string): ContainerStatus => ({
      name: c.name,
      image: c.image,
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, ...(message ? { message } : {}) } },
    });
    this.pod.status = {
      phase: "Pending",
      initContainerStatuses: init.map((c) => waiting(c, "PodInitializing")),
      containerStatuses: main.map((c) => waiting(c, init.length ? "PodInitializing" : "ContainerCreating")),
    };
    const missing = (spec.volumes ?? [])
      .map((v) => v.persistentVolumeClaim?.claimName)
      .find((claim) => claim !== undefined && this.ctx.claimVolume(claim) === undefined);
    if (missing !== undefined) {
      this.pod.status.conditions = [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: `0/1 nodes are available: persistentvolumeclaim "${missing}" not found.`,
        },
      ];
      return;
    }
    for (const c of [...init, ...main]) {
      const pulled = await this.pull(c);
      if (pulled !== undefined) {
        this.setStatus(c.name, waiting(c, "ImagePullBackOff", pulled).state);
        return;
      }
    }
    if (this.stopped || this.pod.status.reason === "DeadlineExceeded") return;
    const mounts = await this.volumeArgs();
    const logs = await mkdtemp(join(tmpdir(), "k8s-standin-logs-"));
    this.cleanups.push(() => rm(logs, { recursive: true, force: true }));
    await this.podman(["pod", "create", "--infra=false", "--name", this.podName], true);
    this.madeAfterStop ||= this.stopped;
    for (const c of init) {
      const exit = await this.runContainer(c, mounts, logs, true);
      if (exit === undefined) return;
      if (exit !== 0) {
        for (const m of main) this.setStatus(m.name, { waiting: { reason: "PodInitializing" } });
        this.setPhase("Failed");
        return;
      }
    }
    const exits = await Promise.all(main.map((c) => this.runContainer(c, mounts, logs, false)));
    if (exits.includes(undefined)) return;
    this.setPhase(exits.every((e) => e === 0) ? "Succeeded" : "Failed");
  }

  /** Pulls `c.image` unless present (per its pull policy); resolves to why it cannot be pulled, if it cannot. */
  private async pull(c: Container): Promise<string | undefined> {
    const policy = c.imagePullPolicy ?? (c.image.endsWith(":latest") ? "Always" : "IfNotPresent");
    const present = (await this.podman(["image", "exists", c.image])).exitCode === 0;
    if (policy === "Never")
      return present ? undefined : `Container image "${c.image}" is not present with pull policy of Never`;
    if (present && policy === "IfNotPresent") return undefined;
    const r = await this.podman(["pull", "--quiet", "--tls-verify=false", c.image]);
    return r.exitCode === 0 ? undefined : `Back-off pulling image "${c.image}": ${r.stderr.trim()}`;
  }

  /** `-v` arguments per volume name: claims' Podman volumes, an emptyDir volume of the pod, Secrets as files. */
  private async volumeArgs(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const v of this.pod.spec?.volumes ?? []) {
      if (v.persistentVolumeClaim)
        out.set(v.name, this.ctx.claimVolume(v.persistentVolumeClaim.claimName) ?? "");
      else if (v.emptyDir) {
        const name = `${this.podName}-${v.name}`;
        await this.podman(["volume", "create", name], true);
        this.cleanups.push(() => this.podman(["volume", "rm", "-f", name]));
        out.set(v.name, name);
      } else if (v.secret) {
        const dir = await mkdtemp(join(tmpdir(), "k8s-standin-secret-"));
        await chmod(dir, 0o755);
        this.cleanups.push(() => rm(dir, { recursive: true, force: true }));
        for (const [key, value] of Object.entries(this.ctx.secret(v.secret.secretName)?.data ?? {}))
          await writeFile(join(dir, key), Buffer.from(value, "base64"), { mode: 0o644 });
        out.set(v.name, dir);
      }
    }
    return out;
  }

  /**
   * Creates, starts and waits for container `c`, its CRI log in directory `logs`; resolves to its exit code,
   * or undefined when it could not run.
   */
  private async runContainer(
    c: Container,
    mounts: Map<string, string>,
    logs: string,
    init: boolean,
  ): Promise<number | undefined> {
    const args = this.createArgs(c, mounts);
    if (typeof args === "string") {
      this.setStatus(c.name, { waiting: { reason: "CreateContainerConfigError", message: args } });
      if (init) this.setPhase("Pending");
      return undefined;
    }
    const name = this.containerName(c.name);
    if (this.stopped) return undefined;
    // the log's path is given, not asked for: every Podman call costs the stand-in's Pods their start time
    const log = join(logs, `${c.name}.log`);
    const logArgs = ["--log-driver", "k8s-file", "--log-opt", `path=${log}`];
    const created = await this.podman(["create", "--pod", this.podName, "--name", name, ...logArgs, ...args]);
    this.madeAfterStop ||= this.stopped;
    if (created.exitCode !== 0) {
      this.setStatus(c.name, { waiting: { reason: "CreateContainerError", message: created.stderr.trim() } });
      return undefined;
    }
    this.logPaths.set(c.name, log);
    const startedAt = now();
    const start = await this.podman(["start", name]);
    if (start.exitCode !== 0) {
      const message = start.stderr.trim();
      this.setStatus(c.name, { terminated: { exitCode: 128, reason: "StartError", message, startedAt } });
      return 128;
    }
    this.setStatus(c.name, { running: { startedAt } });
    if (!init && this.pod.status) this.pod.status.phase = "Running";
    const waited = await this.podman(["wait", name]);
    if (waited.exitCode !== 0) return undefined;
    const exitCode = Number(waited.stdout.trim());
    // A container killed for its memory ends with SIGKILL's 137. Podman 4.3 on cgroup v1 does not record it
    // (State.OOMKilled stays false, measured), so a 137 of a container with a memory limit that the stand-in
    // did not stop itself is taken for the kernel's OOM kill, the only other thing on the node that SIGKILLs it.
    const oom = exitCode === 137 && c.resources?.limits?.memory !== undefined && !this.stopped;
    const reason = oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    this.setStatus(c.name, { terminated: { exitCode, reason, startedAt, finishedAt: now() } });
    return exitCode;
  }

  /** `podman create` arguments for `c`, or why the kubelet would refuse to create it. */
  private createArgs(c: Container, mounts: Map<string, string>): string[] | string {
    const sc = { ...this.pod.spec?.securityContext, ...c.securityContext };
    const args = ["--pull=never"];
    if (this.pod.spec?.hostNetwork) args.push("--network", "host");
    if (sc.runAsUser !== undefined) args.push("--user", `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
    if (sc.runAsNonRoot && sc.runAsUser === 0)
      return `container's runAsUser breaks non-root policy (container ${c.name})`;
    if (sc.runAsNonRoot && sc.runAsUser === undefined)
      return "container has runAsNonRoot and image will run as root";
    if (c.securityContext?.allowPrivilegeEscalation === false)
      args.push("--security-opt", "no-new-privileges");
    if (c.resources?.limits?.memory)
      args.push("--memory", c.resources.limits.memory.replace(/i$/, "").toLowerCase());
    if (c.workingDir) args.push("--workdir", c.workingDir);
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) {
        args.push("--env", `${e.name}=${e.value ?? ""}`);
        continue;
      }
      const value = this.ctx.secret(ref.name)?.data?.[ref.key];
      if (value === undefined) return `secret "${ref.name}" not found or has no key "${ref.key}"`;
      args.push("--env", `${e.name}=${Buffer.from(value, "base64").toString()}`);
    }
    for (const m of c.volumeMounts ?? []) {
      const source = mounts.get(m.name);
      if (!source) return `volume mount "${m.name}" names no volume of the pod`;
      args.push("-v", `${source}:${m.mountPath}${m.readOnly ? ":ro" : ""}`);
    }
    if (c.command) args.push("--entrypoint", JSON.stringify(c.command));
    args.push(c.image, ...(c.args ?? []));
    return args;
  }

  private setStatus(name: string, state: ContainerStatus["state"]): void {
    const st = this.statusOf(name);
    if (st) st.state = state;
  }

  private setPhase(phase: "Pending" | "Failed" | "Succeeded", reason?: string, message?: string): void {
    if (!this.pod.status) this.pod.status = { phase };
    this.pod.status.phase = phase;
    if (reason) this.pod.status.reason = reason;
    if (message) this.pod.status.message = message;
  }

  private async podman(args: string[], check = false) {
    const r = await execa(this.ctx.podman, args, { reject: false, stdin: "ignore" });
    if (check && r.exitCode !== 0) throw new Error(`podman ${args.join(" ")}: ${r.stderr}`);
    return r;
  }
}
