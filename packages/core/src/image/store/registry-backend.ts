/** Images in a registry, through the RegistryClient; indexes are followed to one platform (linux/amd64 by default). */
import { type Descriptor, ImageConfig, INDEX_TYPES, Index, Manifest, selectPlatform } from "../oci.js";
import { formatReference, parseReference, referenceName } from "../reference.js";
import { type RegistryClient, RegistryError } from "../registry/index.js";
import type { ImageBackend, SourceImage } from "./source-image.js";
import { layerForDiffId } from "./source-image.js";

const PLATFORM = { os: "linux", architecture: "amd64" };

export class RegistryBackend implements ImageBackend {
  constructor(
    private readonly client: RegistryClient,
    private readonly platform: { os: string; architecture: string; variant?: string } = PLATFORM,
  ) {}

  async find(name: string): Promise<SourceImage | undefined> {
    const ref = parseReference(name);
    let fetched: Awaited<ReturnType<RegistryClient["getManifest"]>>;
    try {
      fetched = await this.client.getManifest(ref);
    } catch (err) {
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_IMAGE_NOT_FOUND") return undefined;
      throw err;
    }
    if (INDEX_TYPES.includes(fetched.mediaType)) {
      const index = Index.parse(JSON.parse(fetched.bytes.toString("utf8")));
      const chosen = selectPlatform(index, this.platform);
      if (!chosen) return undefined;
      fetched = await this.client.getManifest({ ...ref, tag: undefined, digest: chosen.digest });
    }
    const manifest = Manifest.parse(JSON.parse(fetched.bytes.toString("utf8")));
    const config = ImageConfig.parse(
      JSON.parse((await this.client.getBlob(ref, manifest.config)).toString("utf8")),
    );
    const client = this.client;
    return {
      name,
      identifier: formatReference({
        registry: ref.registry,
        repository: ref.repository,
        digest: fetched.digest,
      }),
      manifestDigest: fetched.digest,
      manifest,
      config,
      async openLayer(diffId: string) {
        const layer: Descriptor | undefined = layerForDiffId(manifest, config, diffId);
        return layer ? client.openBlob(ref, layer) : undefined;
      },
    };
  }

  /** Readable means it exists and these credentials may pull it (what run image mirror selection asks). */
  async canRead(name: string): Promise<boolean> {
    try {
      return (await this.client.headManifest(parseReference(name))) !== undefined;
    } catch (err) {
      if (err instanceof RegistryError) return false;
      throw err;
    }
  }

  canWrite(name: string): Promise<boolean> {
    return this.client.checkWriteAccess(parseReference(name));
  }
}

/** `registry/repository` of a name, for messages. */
export const repositoryOf = (name: string) => referenceName(parseReference(name));
