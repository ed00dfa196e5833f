/**
 * The image store of a cluster: its registries. A cluster keeps no images of its own that cnbp could list,
 * so `images` works on registry references (capabilities.registryOnly): inspect and pull read the manifest
 * and config from the registry; OCI layouts cannot be imported or exported; nothing is deleted from a
 * registry.
 */
import {
  DriverError,
  type ImageStore,
  type PullOptions,
  RegistryBackend,
  RegistryClient,
  RegistryError,
  type StoredImage,
} from "@cnbp/core";
import { DRIVER_NAME } from "./names.js";

export class K8sImages implements ImageStore {
  private readonly backend: RegistryBackend;
  /** Images read so far, by id: cnbp names an image it pulled by its id, which a registry cannot look up. */
  private readonly byId = new Map<string, StoredImage>();

  constructor(client: RegistryClient = new RegistryClient()) {
    this.backend = new RegistryBackend(client);
  }

  async inspect(ref: string): Promise<StoredImage | undefined> {
    if (/^sha256:[0-9a-f]{64}$/.test(ref)) return this.byId.get(ref);
    try {
      const found = await this.backend.find(ref);
      if (!found) return undefined;
      const { config, manifestDigest } = found;
      const repo = found.identifier.slice(0, found.identifier.lastIndexOf("@"));
      const image: StoredImage = {
        id: found.manifest.config.digest,
        tags: [ref],
        repoDigests: [`${repo}@${manifestDigest}`],
        os: config.os,
        arch: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
        labels: config.config?.Labels ?? {},
        env: config.config?.Env ?? [],
        ...(config.config?.User ? { user: config.config.User } : {}),
        diffIds: config.rootfs.diff_ids,
        ...(config.created ? { created: config.created } : {}),
      };
      this.byId.set(image.id, image);
      return image;
    } catch (err) {
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_UNREACHABLE") return undefined;
      throw registryFailure("images.inspect", ref, err);
    }
  }

  /**
   * The reference a Pod pulls `ref` by: an id of an image read before becomes its `repo@digest`; undefined
   * when the registry has no such image.
   */
  async podImage(ref: string): Promise<string | undefined> {
    const image = await this.inspect(ref);
    if (!image) return undefined;
    return image.id === ref ? image.repoDigests[0] : ref;
  }

  /** The registry is the store: every policy reads the image there, where the cluster's nodes pull it from. */
  async pull(ref: string, opts: PullOptions = {}): Promise<StoredImage> {
    if (opts.signal?.aborted)
      throw new DriverError("CNBP_CANCELLED", DRIVER_NAME, "images.pull", `the pull of ${ref} was cancelled`);
    const image = await this.inspect(ref);
    if (!image)
      throw new DriverError(
        "CNBP_IMAGE_NOT_FOUND",
        DRIVER_NAME,
        "images.pull",
        `no image ${ref} in its registry`,
        {
          hints: ["the cluster's nodes pull images from a registry: push the image there, or check the name"],
        },
      );
    return image;
  }

  async importOciLayout(dir: string, _opts: { readonly tag: string }): Promise<StoredImage> {
    throw unsupported(
      "images.importOciLayout",
      `cannot load the OCI layout ${dir}: push the image to a registry the cluster pulls from`,
    );
  }

  async exportOciLayout(ref: string, _dir: string): Promise<void> {
    throw unsupported(
      "images.exportOciLayout",
      `cannot write ${ref} to an OCI layout: copy it from its registry instead`,
    );
  }

  async tag(source: string, target: string): Promise<void> {
    throw unsupported(
      "images.tag",
      `cannot tag ${source} as ${target}: tag it in its registry (e.g. with skopeo copy)`,
    );
  }

  /** Succeeds for an image the registry does not have (cleanup); refuses to delete one from a registry. */
  async remove(ref: string): Promise<void> {
    if ((await this.inspect(ref)) === undefined) return;
    throw unsupported("images.remove", `will not delete ${ref} from its registry`);
  }
}

const unsupported = (op: string, message: string) =>
  new DriverError("CNBP_UNSUPPORTED", DRIVER_NAME, op, message, {
    hints: ["the k8s driver's images live in registries only"],
  });

function registryFailure(op: string, ref: string, err: unknown): DriverError {
  if (err instanceof DriverError) return err;
  if (
    err instanceof RegistryError &&
    (err.code === "CNBP_REGISTRY_UNAUTHORIZED" || err.code === "CNBP_REGISTRY_CREDENTIALS")
  )
    return new DriverError("CNBP_REGISTRY_AUTH", DRIVER_NAME, op, err.message, { cause: err });
  return new DriverError(
    "CNBP_DRIVER_FAILED",
    DRIVER_NAME,
    op,
    `${ref}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}
