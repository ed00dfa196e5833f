/** The Buildah driver: a BuildDriver over the buildah CLI, building into containers-storage, which Podman shares. */
import {
  type BuildDriver,
  type BuiltImage,
  type DockerfileBuild,
  DRIVER_API_VERSION,
  type DriverCapabilities,
  type EngineInfo,
  type StepIO,
} from "@cnbp/core";
import { buildImage, type Isolation } from "./build.js";
import { type BuildahCli, buildah, DRIVER_NAME, failed } from "./buildah.js";
import { BuildahImages } from "./images.js";

export interface BuildahDriverOptions {
  /** The buildah executable; default "buildah" on PATH. */
  readonly bin?: string;
  /** The skopeo executable, used for OCI layouts; default "skopeo" on PATH. */
  readonly skopeo?: string;
  /** How RUN steps are isolated (`buildah bud --isolation`); buildah's default when absent. */
  readonly isolation?: Isolation;
}

interface InfoJson {
  host?: { os?: string; arch?: string; rootless?: boolean };
  store?: { GraphRoot?: string };
}

export class BuildahDriver implements BuildDriver {
  readonly apiVersion = DRIVER_API_VERSION;
  readonly name = DRIVER_NAME;
  readonly capabilities: DriverCapabilities;
  readonly images: BuildahImages;
  private readonly cli: BuildahCli;
  private readonly isolation: Isolation | undefined;

  constructor(options: BuildahDriverOptions = {}) {
    const uid = process.getuid?.();
    this.cli = { bin: options.bin ?? "buildah" };
    this.isolation = options.isolation;
    this.images = new BuildahImages(this.cli, options.skopeo);
    this.capabilities = {
      // buildah has no daemon: it runs rootless exactly when its caller is not root
      rootless: uid !== undefined && uid !== 0,
      sharesImageStoreWith: ["podman"],
      ociLayoutImport: true,
      ociLayoutExport: true,
      // build-only: it runs no steps, so it mounts nothing and joins no network
      bindMounts: false,
      networks: [],
      registryOnly: false,
    };
  }

  /** Who buildah is; `imageStore` is `containers-storage:<graph root>`, as the Podman driver says for the same store. */
  async info(): Promise<EngineInfo> {
    const i = await buildah(this.cli, "info", ["info"]);
    if (i.exitCode !== 0) throw failed("info", i, "CNBP_DRIVER_UNAVAILABLE");
    const v = await buildah(this.cli, "info", ["version", "--json"]);
    if (v.exitCode !== 0) throw failed("info", v, "CNBP_DRIVER_UNAVAILABLE");
    const info = JSON.parse(i.stdout) as InfoJson;
    return {
      engine: "buildah",
      version: (JSON.parse(v.stdout) as { version?: string }).version ?? "",
      os: info.host?.os ?? "linux",
      arch: info.host?.arch ?? "",
      rootless: info.host?.rootless ?? false,
      imageStore: `containers-storage:${info.store?.GraphRoot ?? ""}`,
    };
  }

  build(req: DockerfileBuild, io: StepIO): Promise<BuiltImage> {
    return buildImage(this.cli, req, io, this.isolation);
  }

  /** Every buildah process ends with its call: nothing is held between calls. */
  async [Symbol.asyncDispose](): Promise<void> {}
}
