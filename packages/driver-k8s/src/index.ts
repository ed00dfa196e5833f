/** @cnbp/driver-k8s: builds as Kubernetes Pods, through the cluster's API server (@kubernetes/client-node). */
import { z } from "@cnbp/core";
import { K8sDriver, type K8sDriverOptions } from "./driver.js";

export { DEFAULT_HELPER_IMAGE, K8sDriver, type K8sDriverOptions } from "./driver.js";

/** What `[drivers.k8s]`, CNBP_DRIVER_OPTS and `--driver-opt` may set (`cnbp driver info k8s` prints it). */
export const optionsSchema = z.strictObject({
  kubeconfig: z
    .string()
    .min(1)
    .optional()
    .describe("the kubeconfig file (default $KUBECONFIG, else ~/.kube/config)"),
  context: z.string().min(1).optional().describe("the kubeconfig context (default its current context)"),
  namespace: z
    .string()
    .min(1)
    .optional()
    .describe(
      "the namespace of the build's Pods, PVCs and Secrets (default the context's, else \"default\")",
    ),
  storageClass: z
    .string()
    .min(1)
    .optional()
    .describe("the storage class of the workspace's PVCs (default the cluster's default)"),
  serviceAccount: z.string().min(1).optional().describe("the service account the build's Pods run as"),
  helperImage: z
    .string()
    .min(1)
    .optional()
    .describe(
      "an image with sh and tar for moving files in and out of volumes (default docker.io/library/busybox:1.36)",
    ),
  volumeSize: z
    .string()
    .regex(/^\d+(Ki|Mi|Gi|Ti)?$/)
    .optional()
    .describe('the size each PVC requests, e.g. "2Gi" (default "1Gi")'),
  startTimeout: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe("seconds a Pod may take to be scheduled and pull its image (default 300)"),
  stepTimeout: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "seconds a step may run before Kubernetes stops it (the Pod's activeDeadlineSeconds; default none)",
    ),
  memoryLimit: z
    .string()
    .regex(/^\d+(Ki|Mi|Gi|Ti)?$/)
    .optional()
    .describe(
      "the memory each step's container may use, e.g. \"2Gi\" (its resources.limits.memory; default none, or the namespace's LimitRange)",
    ),
  splitLogs: z
    .union([z.boolean(), z.stringbool()])
    .optional()
    .describe(
      "the cluster gives a step's stdout and stderr apart (Kubernetes 1.32+ with the PodLogsQuerySplitStreams feature gate); otherwise stderr is interleaved into stdout (default false)",
    ),
});

export function createDriver(options: K8sDriverOptions = {}): K8sDriver {
  return new K8sDriver(options);
}

const driver: K8sDriver = new K8sDriver();
export default driver;
