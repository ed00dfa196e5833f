/**
 * A Pod's life as the driver sees it: created, watched (polled) until its container starts, its log followed
 * to the step's output, its exit code read from the container status, and deleted, waiting until it is gone,
 * in every case. Pod failures come back as DriverErrors naming the step and Kubernetes' reason.
 */
import { DriverError, type StepIO } from "@cnbp/core";
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { type Cluster, isNotFound } from "./cluster.js";
import { followLog } from "./logs.js";
import { CONTAINER } from "./manifests.js";
import { DRIVER_NAME } from "./names.js";

const POLL_MS = 150;
/** How long a step has to stop after SIGTERM when cancelled, as the contract says. */
const CANCEL_GRACE_S = 10;

/** Waiting reasons that do not pass by themselves. */
const STUCK = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
]);

export interface PodWatch {
  /** What the Pod is for, in messages: `step "analyzer"`, `helper`. */
  readonly what: string;
  readonly operation: string;
  /** How long the Pod may take to start its container (scheduling, pulling). */
  readonly startTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export async function createPod(cluster: Cluster, pod: V1Pod, w: PodWatch): Promise<string> {
  try {
    const made = await cluster.core.createNamespacedPod({ namespace: cluster.namespace, body: pod });
    return made.metadata?.name ?? "";
  } catch (err) {
    throw cluster.fail(w.operation, err);
  }
}

/** Deletes the Pod and resolves once the API server no longer has it (its containers are gone). */
export async function deletePod(cluster: Cluster, name: string, graceSeconds = 0): Promise<void> {
  try {
    await cluster.core.deleteNamespacedPod({
      name,
      namespace: cluster.namespace,
      gracePeriodSeconds: graceSeconds,
    });
  } catch (err) {
    if (isNotFound(err)) return;
    throw cluster.fail("delete pod", err);
  }
  for (;;) {
    try {
      await cluster.core.readNamespacedPod({ name, namespace: cluster.namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw cluster.fail("delete pod", err);
    }
    await sleep(POLL_MS);
  }
}

/** Resolves to the Pod once its container runs or ran; throws on what keeps it from starting, and on timeout. */
export async function waitStarted(cluster: Cluster, name: string, w: PodWatch): Promise<V1Pod> {
  const end = Date.now() + w.startTimeoutMs;
  let last = "Pending";
  for (;;) {
    if (w.signal?.aborted) throw cancelled(w);
    const pod = await read(cluster, name, w);
    const st = containerStatus(pod);
    if (st?.state?.running || st?.state?.terminated) return pod;
    const waiting = st?.state?.waiting;
    if (waiting?.reason && STUCK.has(waiting.reason))
      throw new DriverError(
        "CNBP_DRIVER_FAILED",
        DRIVER_NAME,
        w.operation,
        `${w.what} cannot start: ${waiting.reason}: ${waiting.message ?? ""}`.trim(),
      );
    if (pod.status?.phase === "Failed") throw podFailed(pod, w);
    const unscheduled = pod.status?.conditions?.find(
      (c) => c.type === "PodScheduled" && c.status === "False",
    );
    last = unscheduled
      ? `${unscheduled.reason}: ${unscheduled.message}`
      : (waiting?.reason ?? pod.status?.phase ?? last);
    if (Date.now() > end)
      throw new DriverError(
        "CNBP_DRIVER_FAILED",
        DRIVER_NAME,
        w.operation,
        `${w.what} did not start within ${Math.round(w.startTimeoutMs / 1000)} s (${last})`,
        {
          hints: [
            'raise the driver\'s "startTimeout" option (seconds) if the cluster is slow to schedule or pull',
          ],
        },
      );
    await sleep(POLL_MS);
  }
}

/**
 * Runs the Pod `pod` to its end: creates it, follows its log into `io` (see copyLog), resolves to its container's exit code, and deletes it whatever
 * happens. Aborting `io.signal` deletes it with a grace period and throws CNBP_CANCELLED.
 */
export async function runPod(
  cluster: Cluster,
  pod: V1Pod,
  io: StepIO,
  w: PodWatch,
  splitLogs: boolean,
): Promise<number> {
  if (io.signal?.aborted) throw cancelled(w);
  const name = await createPod(cluster, pod, w);
  let grace = 0;
  const onAbort = () => {
    grace = CANCEL_GRACE_S;
    void deletePod(cluster, name, CANCEL_GRACE_S).catch(() => {});
  };
  io.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await waitStarted(cluster, name, w);
    await copyLog(cluster, name, io, w, splitLogs);
    for (;;) {
      if (io.signal?.aborted) throw cancelled(w);
      const done = await read(cluster, name, w);
      // a Pod failed by Kubernetes itself (evicted, past its deadline), not by its container's exit
      if (done.status?.phase === "Failed" && done.status.reason) throw podFailed(done, w);
      const terminated = containerStatus(done)?.state?.terminated;
      if (terminated) {
        if (terminated.reason === "OOMKilled")
          throw new DriverError(
            "CNBP_DRIVER_FAILED",
            DRIVER_NAME,
            w.operation,
            `${w.what} was killed for using more memory than its limit (OOMKilled)`,
            { hints: ["raise the driver's \"memoryLimit\" option, or the namespace's LimitRange"] },
          );
        return terminated.exitCode;
      }
      if (done.status?.phase === "Failed") throw podFailed(done, w);
      await sleep(POLL_MS);
    }
  } catch (err) {
    if (io.signal?.aborted) throw cancelled(w);
    throw err;
  } finally {
    io.signal?.removeEventListener("abort", onAbort);
    await deletePod(cluster, name, grace).catch(() => {});
  }
}

/**
 * Copies the container's log, as it is written, to the step's sinks until the container ends: stdout and stderr
 * apart when the cluster can split them, else the one interleaved log to `io.stdout`.
 */
async function copyLog(
  cluster: Cluster,
  name: string,
  io: StepIO,
  w: PodWatch,
  split: boolean,
): Promise<void> {
  const follow = (stream: "Stdout" | "Stderr" | undefined, sink: StepIO["stdout"]) =>
    followLog(cluster.kc, {
      namespace: cluster.namespace,
      pod: name,
      container: CONTAINER,
      ...(stream ? { stream } : {}),
      onData: (c) => sink.write(c),
      ...(io.signal ? { signal: io.signal } : {}),
    }).catch((err: unknown) => {
      if (!io.signal?.aborted) throw cluster.fail(w.operation, err);
    });
  if (split) await Promise.all([follow("Stdout", io.stdout), follow("Stderr", io.stderr)]);
  else await follow(undefined, io.stdout);
}

async function read(cluster: Cluster, name: string, w: PodWatch): Promise<V1Pod> {
  try {
    return await cluster.core.readNamespacedPod({ name, namespace: cluster.namespace });
  } catch (err) {
    if (isNotFound(err) && w.signal?.aborted) throw cancelled(w);
    if (isNotFound(err))
      throw new DriverError(
        "CNBP_DRIVER_FAILED",
        DRIVER_NAME,
        w.operation,
        `${w.what}'s Pod ${name} was deleted by someone else`,
      );
    throw cluster.fail(w.operation, err);
  }
}

const containerStatus = (pod: V1Pod): V1ContainerStatus | undefined =>
  pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);

function podFailed(pod: V1Pod, w: PodWatch): DriverError {
  const reason = pod.status?.reason ?? "Failed";
  const what =
    reason === "Evicted"
      ? "was evicted from its node"
      : reason === "DeadlineExceeded"
        ? "ran longer than the driver's stepTimeout"
        : "failed";
  return new DriverError(
    "CNBP_DRIVER_FAILED",
    DRIVER_NAME,
    w.operation,
    `${w.what} ${what}: ${reason}: ${pod.status?.message ?? ""}`.trim(),
    reason === "DeadlineExceeded" ? { hints: ['raise the driver\'s "stepTimeout" option (seconds)'] } : {},
  );
}

const cancelled = (w: PodWatch) =>
  new DriverError("CNBP_CANCELLED", DRIVER_NAME, w.operation, `${w.what} was cancelled`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
