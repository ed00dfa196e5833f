/**
 * The Kubernetes objects the driver creates, as data: a Pod per step and per helper, a PVC per volume, a
 * Secret per step that gets credentials. Pure functions, so a unit test validates them against the
 * Kubernetes OpenAPI schema.
 */
import type { ContainerStep } from "@cnbp/core";
import type {
  V1Container,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1Volume,
} from "@kubernetes/client-node";
import { LABELS_ANNOTATION, MANAGED_BY } from "./names.js";

/** Env vars a step gets from a Secret of its own, never written into the Pod spec. */
export const SECRET_ENV: readonly string[] = ["CNB_REGISTRY_AUTH"];

/** The container name of every Pod the driver makes. */
export const CONTAINER = "step";

export interface ObjectMeta {
  readonly name: string;
  /** cnbp's labels: as an annotation whole, and as Kubernetes labels where Kubernetes takes them. */
  readonly labels: Readonly<Record<string, string>>;
  readonly kubeLabels: Readonly<Record<string, string>>;
}

const metadata = (m: ObjectMeta) => ({
  name: m.name,
  labels: { ...m.kubeLabels, ...MANAGED_BY },
  annotations: { [LABELS_ANNOTATION]: JSON.stringify(m.labels) },
});

export interface PodOptions {
  readonly serviceAccount?: string;
  /** Pod-level node selector, e.g. to keep builds on nodes of one architecture. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Seconds a step's Pod may run before Kubernetes kills it (activeDeadlineSeconds); helpers have none. */
  readonly stepTimeout?: number;
  /** The memory a step's container may use (resources.limits.memory, e.g. "2Gi"); helpers have none. */
  readonly memoryLimit?: string;
}

/** `uid[:gid]` as numbers; Kubernetes runs containers by number only. Undefined when `user` names a user. */
export function numericUser(user: string): { uid: number; gid?: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) return undefined;
  return { uid: Number(m[1]), ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) };
}

export interface StepPodSpec {
  readonly meta: ObjectMeta;
  readonly step: ContainerStep;
  /** Claim names of the step's volume mounts, by `VolumeSpec.name`. */
  readonly claims: ReadonlyMap<string, string>;
  /** The Secret holding the step's SECRET_ENV values, when it has any. */
  readonly secretName?: string;
  readonly options: PodOptions;
}

/**
 * The Pod of one step: one container, never restarted, running `step.cmd` as `step.user` with no privilege
 * escalation (and runAsNonRoot for a non-root user), the step's claims mounted, credentials from its Secret.
 */
export function stepPod(spec: StepPodSpec): V1Pod {
  const { step } = spec;
  const user = step.user !== undefined ? numericUser(step.user) : undefined;
  const mounts = (step.mounts ?? []).flatMap((m) => (m.type === "volume" ? [m] : []));
  const used = [...new Set(mounts.map((m) => m.volume))];
  const env = Object.entries(step.env ?? {}).map(([name, value]) =>
    SECRET_ENV.includes(name) && spec.secretName
      ? { name, valueFrom: { secretKeyRef: { name: spec.secretName, key: name } } }
      : { name, value },
  );
  const container: V1Container = {
    name: CONTAINER,
    image: step.image,
    imagePullPolicy: "IfNotPresent",
    command: [...step.cmd],
    ...(env.length ? { env } : {}),
    ...(step.workingDir ? { workingDir: step.workingDir } : {}),
    ...(spec.options.memoryLimit ? { resources: { limits: { memory: spec.options.memoryLimit } } } : {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      ...(user
        ? { runAsUser: user.uid, runAsGroup: user.gid ?? user.uid, runAsNonRoot: user.uid !== 0 }
        : {}),
    },
    volumeMounts: mounts.map((m) => ({
      name: volumeName(used.indexOf(m.volume)),
      mountPath: m.target,
      ...(m.readOnly ? { readOnly: true } : {}),
    })),
  };
  const volumes: V1Volume[] = used.map((v, i) => ({
    name: volumeName(i),
    persistentVolumeClaim: { claimName: spec.claims.get(v) ?? "" },
  }));
  const made = pod(spec.meta, container, volumes, spec.options);
  if (spec.options.stepTimeout && made.spec) made.spec.activeDeadlineSeconds = spec.options.stepTimeout;
  // network "host": the node's network, e.g. for a registry only the nodes reach
  if (step.network === "host" && made.spec) made.spec.hostNetwork = true;
  return made;
}

/**
 * A helper Pod with `claims` mounted at /cnbp/volumes/<index>, as root, that waits (up to an hour) for the
 * driver to exec `tar` in it: how files go into and out of volumes without a shared filesystem.
 */
export function helperPod(
  meta: ObjectMeta,
  image: string,
  claims: readonly string[],
  options: PodOptions,
): V1Pod {
  const container: V1Container = {
    name: CONTAINER,
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["/bin/sh", "-c", "sleep 3600"],
    securityContext: { allowPrivilegeEscalation: false, runAsUser: 0, runAsGroup: 0 },
    volumeMounts: claims.map((_, i) => ({ name: volumeName(i), mountPath: helperMount(i) })),
  };
  const volumes = claims.map((claimName, i) => ({
    name: volumeName(i),
    persistentVolumeClaim: { claimName },
  }));
  return pod(meta, container, volumes, options);
}

/** Where a helper Pod has its `index`th claim. */
export const helperMount = (index: number) => `/cnbp/volumes/${index}`;

const volumeName = (i: number) => `volume-${i}`;

function pod(meta: ObjectMeta, container: V1Container, volumes: V1Volume[], options: PodOptions): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: metadata(meta),
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      ...(options.serviceAccount ? { serviceAccountName: options.serviceAccount } : {}),
      ...(options.nodeSelector ? { nodeSelector: { ...options.nodeSelector } } : {}),
      containers: [container],
      ...(volumes.length ? { volumes } : {}),
    },
  };
}

/** A claim for one workspace volume, of `size`, in `storageClass` (the cluster's default when absent). */
export function volumeClaim(meta: ObjectMeta, size: string, storageClass?: string): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: metadata(meta),
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      ...(storageClass ? { storageClassName: storageClass } : {}),
    },
  };
}

/** The Secret holding one step's credentials (`SECRET_ENV` values), deleted with the step's Pod. */
export function stepSecret(meta: ObjectMeta, values: Readonly<Record<string, string>>): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadata(meta),
    type: "Opaque",
    stringData: { ...values },
  };
}
