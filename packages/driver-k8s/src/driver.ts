/** The Kubernetes driver: a RuntimeDriver whose steps are Pods, volumes PVCs, and images registry references. */
import {
  DRIVER_API_VERSION,
  type DriverCapabilities,
  type EngineInfo,
  type RuntimeDriver,
  type Workspace,
  type WorkspaceSpec,
} from "@cnbp/core";
import { VersionApi } from "@kubernetes/client-node";
import { Cluster, type ClusterOptions } from "./cluster.js";
import { K8sImages } from "./images.js";
import { DRIVER_NAME } from "./names.js";
import { K8sVolumes } from "./volumes.js";
import { createWorkspace, type WorkspaceSettings } from "./workspace.js";

export interface K8sDriverOptions extends ClusterOptions {
  readonly storageClass?: string;
  readonly serviceAccount?: string;
  readonly helperImage?: string;
  readonly volumeSize?: string;
  /** Seconds a Pod may take to be scheduled and pull its image. */
  readonly startTimeout?: number;
  /** Seconds a step may run (activeDeadlineSeconds); none when absent. */
  readonly stepTimeout?: number;
  /** The memory each step's container may use (resources.limits.memory); none when absent. */
  readonly memoryLimit?: string;
  /** The cluster splits logs by stream (Kubernetes 1.32+, feature gate PodLogsQuerySplitStreams). */
  readonly splitLogs?: boolean;
}

/** The helper image when none is given: a public busybox, which has sh, tar and chown. */
export const DEFAULT_HELPER_IMAGE = "docker.io/library/busybox:1.36";

export class K8sDriver implements RuntimeDriver {
  readonly apiVersion = DRIVER_API_VERSION;
  readonly name = DRIVER_NAME;
  readonly capabilities: DriverCapabilities = {
    rootless: false,
    sharesImageStoreWith: [],
    ociLayoutImport: false,
    ociLayoutExport: false,
    bindMounts: false,
    networks: ["default", "host"],
    registryOnly: true,
  };
  readonly images = new K8sImages();
  private readonly options: K8sDriverOptions;
  private connected: Cluster | undefined;
  private volumeStore: K8sVolumes | undefined;

  constructor(options: K8sDriverOptions = {}) {
    this.options = options;
  }

  /** The cluster, connected on first use so that `cnbp driver list` never reads a kubeconfig. */
  private get cluster(): Cluster {
    this.connected ??= new Cluster(this.options);
    return this.connected;
  }

  get volumes(): K8sVolumes {
    this.volumeStore ??= new K8sVolumes(this.cluster);
    return this.volumeStore;
  }

  async info(): Promise<EngineInfo> {
    const cluster = this.cluster;
    let version: Awaited<ReturnType<VersionApi["getCode"]>>;
    try {
      version = await cluster.kc.makeApiClient(VersionApi).getCode();
    } catch (err) {
      throw cluster.fail("info", err, "CNBP_DRIVER_UNAVAILABLE");
    }
    const [os = "linux", arch = "amd64"] = (version.platform ?? "linux/amd64").split("/");
    return {
      engine: "kubernetes",
      version: version.gitVersion,
      os,
      arch,
      rootless: false,
      imageStore: `registry:kubernetes:${cluster.server}/${cluster.namespace}`,
    };
  }

  workspace(spec: WorkspaceSpec): Promise<Workspace> {
    const settings: WorkspaceSettings = {
      helperImage: this.options.helperImage ?? DEFAULT_HELPER_IMAGE,
      volumeSize: this.options.volumeSize ?? "1Gi",
      startTimeoutMs: (this.options.startTimeout ?? 300) * 1000,
      splitLogs: this.options.splitLogs ?? false,
      ...(this.options.storageClass ? { storageClass: this.options.storageClass } : {}),
      ...(this.options.serviceAccount ? { serviceAccount: this.options.serviceAccount } : {}),
      ...(this.options.stepTimeout ? { stepTimeout: this.options.stepTimeout } : {}),
      ...(this.options.memoryLimit ? { memoryLimit: this.options.memoryLimit } : {}),
    };
    return createWorkspace(this.cluster, this.images, settings, spec);
  }

  /** Nothing to release: API calls hold no connection between them. */
  async [Symbol.asyncDispose](): Promise<void> {}
}
