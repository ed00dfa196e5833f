// The runtime driver contract, through the tests' stand-in API server (test/k8s-apiserver), which runs the Pods
// with Podman. The driver is registry-only: the kit pushes its test images to the local registry. Needs Podman,
// the registry and the busybox stack pushed there (scripts/engines/start.sh, scripts/stacks/build.sh).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LeakProbe, runtimeDriverContract } from "@cnbp/driver-testkit";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, vi } from "vitest";
import { startApiServer, writeKubeconfig } from "../../../test/k8s-apiserver/index.js";
import { createDriver } from "./index.js";
import { LABELS_ANNOTATION } from "./names.js";

const REGISTRY = "127.0.0.1:5000";
const IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const NAMESPACE = `contract-${process.pid.toString(36)}`;

// started while the file is collected: the kit makes the driver then, to declare the tests its capabilities call for
const server = await startApiServer();
const dir = await mkdtemp(join(tmpdir(), "cnbp-k8s-contract-"));
const kubeconfig = join(dir, "config");
await writeKubeconfig(kubeconfig, { server: server.url, namespace: NAMESPACE });

// a test runs up to five Pods, each a few Podman commands of the stand-in: slow on a shared, loaded machine
vi.setConfig({ testTimeout: 180_000 });

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Pods, PVCs and Secrets the API server still has from the suite run, one line each. */
async function clusterLeaks({ label, value }: LeakProbe): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  // the driver keeps cnbp's labels whole in an annotation, and as labels only where Kubernetes takes them
  const ours = (o: { metadata?: { annotations?: Record<string, string> } }) =>
    JSON.parse(o.metadata?.annotations?.[LABELS_ANNOTATION] ?? "{}")[label] === value;
  const namespace = NAMESPACE;
  const pods = (await core.listNamespacedPod({ namespace })).items.filter(ours);
  const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.filter(ours);
  const secrets = (await core.listNamespacedSecret({ namespace })).items.filter(ours);
  return [
    ...pods.map((p) => `pod ${p.metadata?.name}`),
    ...claims.map((c) => `pvc ${c.metadata?.name}`),
    ...secrets.map((s) => `secret ${s.metadata?.name}`),
  ];
}

runtimeDriverContract(
  "k8s",
  () => createDriver({ kubeconfig, helperImage: IMAGE, startTimeout: 60, splitLogs: true }),
  { image: IMAGE, registry: REGISTRY, leaks: clusterLeaks },
);
