/** The Podman driver: a RuntimeDriver and a BuildDriver over the podman CLI. */
import {
  type BuildDriver,
  type BuiltImage,
  type DockerfileBuild,
  DRIVER_API_VERSION,
  type DriverCapabilities,
  type EngineInfo,
  type RuntimeDriver,
  type StepIO,
  type Workspace,
  type WorkspaceSpec,
} from "@cnbp/core/drivers";
import { buildImage } from "./build.js";
import { PodmanImages } from "./images.js";
import { type StepNetwork, stepNetwork } from "./network.js";
import { DRIVER_NAME, failed, type PodmanCli, podman } from "./podman.js";
import { PodmanVolumes } from "./volumes.js";
import { createWorkspace } from "./workspace.js";

export interface PodmanDriverOptions {
  /** The podman executable; default "podman" on PATH. */
  readonly bin?: string;
  /** The skopeo executable, used for OCI layouts; default "skopeo" on PATH. */
  readonly skopeo?: string;
  /** The network of steps that ask for the default one; default slirp4netns when installed (network.ts). */
  readonly network?: StepNetwork;
}

interface InfoJson {
  host?: { os?: string; arch?: string; security?: { rootless?: boolean } };
  store?: { graphRoot?: string };
  version?: { Version?: string };
}

export class PodmanDriver implements RuntimeDriver, BuildDriver {
  readonly apiVersion = DRIVER_API_VERSION;
  readonly name = DRIVER_NAME;
  readonly capabilities: DriverCapabilities;
  readonly images: PodmanImages;
  readonly volumes: PodmanVolumes;
  private readonly cli: PodmanCli;
  private readonly network: StepNetwork | undefined;

  constructor(options: PodmanDriverOptions = {}, uid: number | undefined = process.getuid?.()) {
    this.cli = { bin: options.bin ?? "podman" };
    this.network = options.network;
    this.images = new PodmanImages(this.cli, options.skopeo);
    this.volumes = new PodmanVolumes(this.cli);
    this.capabilities = {
      rootless: uid !== undefined && uid !== 0,
      sharesImageStoreWith: ["buildah"],
      ociLayoutImport: true,
      ociLayoutExport: true,
      bindMounts: true,
      networks: ["default", "none", "host"],
      registryOnly: false,
    };
  }

  async info(): Promise<EngineInfo> {
    const r = await podman(this.cli, "info", ["info", "--format", "json"]);
    if (r.exitCode !== 0) throw failed("info", r, "CNBP_DRIVER_UNAVAILABLE");
    const info = JSON.parse(r.stdout) as InfoJson;
    const rootless = info.host?.security?.rootless ?? false;
    return {
      engine: "podman",
      version: info.version?.Version ?? "",
      os: info.host?.os ?? "linux",
      arch: info.host?.arch ?? "",
      rootless,
      imageStore: `containers-storage:${info.store?.graphRoot ?? ""}`,
    };
  }

  workspace(spec: WorkspaceSpec): Promise<Workspace> {
    return createWorkspace(this.cli, spec, stepNetwork(this.network));
  }

  build(req: DockerfileBuild, io: StepIO): Promise<BuiltImage> {
    return buildImage(this.cli, req, io);
  }

  /**
   * Nothing to release: every podman process ends with its call, and the API service, shared with the
   * user's other cnbp processes, ends after its idle time (service.ts).
   */
  async [Symbol.asyncDispose](): Promise<void> {}
}
