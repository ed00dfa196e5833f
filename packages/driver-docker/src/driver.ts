/** The Docker driver: a RuntimeDriver and a BuildDriver over the Docker Engine API. */
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
} from "@cnbp/core";
import { buildImage } from "./build.js";
import { DRIVER_NAME, resolveEndpoint } from "./connection.js";
import { connect, type Engine, engineError, unavailable } from "./engine.js";
import { DockerImages } from "./images.js";
import type { DockerDriverOptions } from "./options.js";
import { DockerVolumes } from "./volumes.js";
import { createWorkspace } from "./workspace.js";

export class DockerDriver implements RuntimeDriver, BuildDriver {
  readonly apiVersion = DRIVER_API_VERSION;
  readonly name = DRIVER_NAME;
  readonly images: DockerImages;
  readonly volumes: DockerVolumes;
  /** What the daemon said in the last `info()`: a rootless daemon lists "name=rootless" in its security options. */
  private rootless = false;
  private engineOnce: Engine | undefined;

  constructor(private readonly options: DockerDriverOptions = {}) {
    this.images = new DockerImages(() => this.engine());
    this.volumes = new DockerVolumes(() => this.engine());
  }

  get capabilities(): DriverCapabilities {
    return {
      rootless: this.rootless,
      sharesImageStoreWith: [],
      ociLayoutImport: true,
      ociLayoutExport: true,
      bindMounts: true,
      networks: ["default", "none", "host"],
      registryOnly: false,
    };
  }

  async info(): Promise<EngineInfo> {
    const engine = this.engine();
    let info: { OSType?: string; Architecture?: string; SecurityOptions?: string[] | null };
    let version: { Version?: string; Arch?: string; Os?: string };
    try {
      [info, version] = await Promise.all([engine.docker.info(), engine.docker.version()]);
    } catch (err) {
      const e = engineError(engine, "info", err);
      throw e.code === "CNBP_DRIVER_UNAVAILABLE" ? e : unavailable(engine.endpoint, "info", err);
    }
    this.rootless = (info.SecurityOptions ?? []).some((o) => o.split(",").includes("name=rootless"));
    return {
      engine: "docker",
      version: version.Version ?? "",
      os: version.Os ?? info.OSType ?? "linux",
      arch: version.Arch ?? "",
      rootless: this.rootless,
      imageStore: `docker:${engine.endpoint.host}`,
    };
  }

  workspace(spec: WorkspaceSpec): Promise<Workspace> {
    return createWorkspace(this.engine(), spec);
  }

  build(req: DockerfileBuild, io: StepIO): Promise<BuiltImage> {
    return buildImage(this.engine(), req, io);
  }

  /** Holds no connection between calls: every API request ends with its call. */
  async [Symbol.asyncDispose](): Promise<void> {}

  /** The engine, found on first use: a bad address or docker context fails the call, not the import. */
  private engine(): Engine {
    this.engineOnce ??= connect(resolveEndpoint(this.options));
    return this.engineOnce;
  }
}
