/**
 * The cache image (`-cache-image`, shared/spec/platform.md 8.1): an image in a registry with no base, one
 * gzipped layer per cached layer (and the cache SBOM layer), and the metadata JSON in the label
 * `io.buildpacks.lifecycle.cache.metadata`. Every commit writes a new image under the same tag; layers already
 * in the repository (reused ones, or added ones with the same bytes) are not uploaded again.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import {
  type CacheMetadata,
  CnbpError,
  cacheMetadataLabel,
  type Descriptor,
  formatReference,
  ImageConfig,
  type ImageReference,
  INDEX_TYPES,
  Index,
  jsonBytes,
  Manifest,
  MediaType,
  ociLayerType,
  parseReference,
  type RegistryClient,
  RegistryError,
  selectPlatform,
  serializeSpec,
  sha256Digest,
} from "@cnbp/core";
import type { Log } from "../log.js";
import {
  CACHE_METADATA,
  CACHE_WRITE,
  CacheCorruptError,
  type CachedHow,
  type CommitResult,
  type CommittedLayer,
  checkAllStaged,
  checkDiffId,
  diffIdMismatch,
  fileChunks,
  gzipChunks,
  isGzipFile,
  type LayerCache,
  parseCacheMetadata,
  referencedDiffIds,
  verifiedTar,
} from "./common.js";

/** The creation time of cache images: fixed, like every CNB image date without SOURCE_DATE_EPOCH. */
const CREATED = "1980-01-01T00:00:01Z";

const ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };
const architecture = () => ARCH[process.arch] ?? process.arch;

/** The layer an image with nothing to cache still gets (registries may refuse an image without layers). */
function emptyLayer(): { diffId: string; blob: Buffer } {
  const tar = Buffer.alloc(1024);
  const blob = gzipSync(tar, { level: 6 });
  blob[9] = 255;
  return { diffId: sha256Digest(tar), blob };
}

interface StagedLayer extends CommittedLayer {
  readonly order: number;
  readonly descriptor: Descriptor;
}

/** Passes the chunks through, showing each to `see` first. */
async function* tap(source: AsyncIterable<Buffer>, see: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    see(chunk);
    yield chunk;
  }
}

export class ImageCache implements LayerCache {
  readonly kind = "image";
  readonly name: string;
  private readonly staged = new Map<string, StagedLayer>();
  private order = 0;
  private committed = false;

  private constructor(
    readonly ref: ImageReference,
    readonly found: boolean,
    readonly metadata: CacheMetadata,
    /** The committed image's layers by diffID. */
    private readonly layers: ReadonlyMap<string, Descriptor>,
    private readonly client: RegistryClient,
    private readonly log: Log,
    imageName: string,
  ) {
    this.name = `cache image ${imageName}`;
  }

  /**
   * Reads the cache image's manifest and config. A missing image is an empty cache; one that is not a valid
   * cache image (bad manifest or config, no or bad label) is reported and treated as empty. Registry errors
   * other than "not found" (no access, unreachable) are thrown.
   */
  static async open(imageName: string, client: RegistryClient, log: Log): Promise<ImageCache> {
    const ref = parseReference(imageName);
    const name = `cache image ${imageName}`;
    const make = (found: boolean, metadata: CacheMetadata = {}, layers = new Map<string, Descriptor>()) =>
      new ImageCache(ref, found, metadata, layers, client, log, imageName);
    const corrupt = (why: string) => {
      log.warn(`${name} is corrupt, ignoring it: ${why}`);
      return make(true);
    };
    const json = (bytes: Buffer): unknown => {
      try {
        return JSON.parse(bytes.toString("utf8"));
      } catch {
        return undefined;
      }
    };

    let fetched: Awaited<ReturnType<RegistryClient["getManifest"]>>;
    try {
      fetched = await client.getManifest(ref);
    } catch (err) {
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_IMAGE_NOT_FOUND") return make(false);
      throw err;
    }
    if (INDEX_TYPES.includes(fetched.mediaType)) {
      const index = Index.safeParse(json(fetched.bytes));
      if (!index.success) return corrupt("its index is not an image index");
      const chosen =
        selectPlatform(index.data, { os: "linux", architecture: architecture() }) ?? index.data.manifests[0];
      if (!chosen) return corrupt("its index lists no image");
      fetched = await client.getManifest({ ...ref, tag: undefined, digest: chosen.digest });
    }
    const manifest = Manifest.safeParse(json(fetched.bytes));
    if (!manifest.success) return corrupt("its manifest is not an image manifest");
    let configBytes: Buffer;
    try {
      configBytes = await client.getBlob(ref, manifest.data.config);
    } catch (err) {
      if (
        err instanceof RegistryError &&
        (err.code === "CNBP_REGISTRY_BLOB_NOT_FOUND" || err.code === "CNBP_REGISTRY_DIGEST_MISMATCH")
      ) {
        return corrupt(err.message);
      }
      throw err;
    }
    const config = ImageConfig.safeParse(json(configBytes));
    if (!config.success) return corrupt("its config is not an image config");
    const diffIds = config.data.rootfs.diff_ids;
    if (diffIds.length !== manifest.data.layers.length) {
      return corrupt(`its config lists ${diffIds.length} diffIDs for ${manifest.data.layers.length} layers`);
    }
    const label = config.data.config?.Labels?.[CACHE_METADATA];
    if (label === undefined) return corrupt(`it has no label ${CACHE_METADATA}`);
    const parsed = parseCacheMetadata(label, `label ${CACHE_METADATA}`);
    if (!parsed.ok) return corrupt(parsed.problem);
    const layers = new Map<string, Descriptor>();
    diffIds.forEach((diffId, i) => {
      layers.set(diffId, manifest.data.layers[i] as Descriptor);
    });
    return make(true, parsed.value, layers);
  }

  async openLayer(diffId: string, layerKey: string): Promise<AsyncIterable<Buffer>> {
    const corrupt = (problem: string) => new CacheCorruptError(this.name, layerKey, diffId, problem);
    const layer = this.layers.get(diffId);
    if (!layer) throw corrupt("is missing: the image has no such layer");
    let blob: AsyncIterable<Buffer>;
    try {
      blob = await this.client.openBlob(this.ref, layer);
    } catch (err) {
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_BLOB_NOT_FOUND") {
        throw corrupt(`is missing: ${err.message}`);
      }
      throw err;
    }
    return verifiedTar(blob, diffId, corrupt);
  }

  async reuse(layerKey: string, diffId: string): Promise<boolean> {
    this.writable();
    checkDiffId(diffId, `${this.name}: reusing ${layerKey}`);
    if (this.staged.has(diffId)) return true;
    const order = this.order++;
    const layer = this.layers.get(diffId);
    const missing = (why: string) => {
      this.log.warn(`${new CacheCorruptError(this.name, layerKey, diffId, why).message}: not reusing it`);
      return false;
    };
    if (!layer) return missing("is missing: the image has no such layer");
    if (!(await this.client.hasBlob(this.ref, layer.digest))) {
      return missing(`is missing: the registry has no blob ${layer.digest}`);
    }
    // Docker's gzip layer type is the same bytes as OCI's: keep the manifest in one vocabulary
    const descriptor: Descriptor = {
      mediaType: ociLayerType(layer.mediaType),
      digest: layer.digest,
      size: layer.size,
    };
    this.staged.set(diffId, { order, key: layerKey, diffId, how: "reused", bytes: 0, descriptor });
    return true;
  }

  async add(layerKey: string, tarPath: string, diffId: string): Promise<void> {
    this.writable();
    checkDiffId(diffId, `${this.name}: adding ${layerKey}`);
    if (this.staged.has(diffId)) return;
    const order = this.order++;
    const mismatch = diffIdMismatch(this.name, layerKey, tarPath, diffId);
    // one pass: check the diffID of the uncompressed tar and find the digest of the gzipped blob
    const blobHash = createHash("sha256");
    let size = 0;
    const count = (chunk: Buffer) => {
      blobHash.update(chunk);
      size += chunk.length;
    };
    const gzipped = await isGzipFile(tarPath);
    const blobChunks = () => (gzipped ? fileChunks(tarPath) : gzipChunks(fileChunks(tarPath)));
    if (gzipped) {
      for await (const _ of verifiedTar(tap(fileChunks(tarPath), count), diffId, mismatch)) {
        // hashing
      }
    } else {
      for await (const chunk of gzipChunks(verifiedTar(fileChunks(tarPath), diffId, mismatch))) count(chunk);
    }
    const digest = `sha256:${blobHash.digest("hex")}`;
    const pushed = await this.client.pushBlob(this.ref, { digest, size }, blobChunks);
    const how: CachedHow = pushed.how;
    this.staged.set(diffId, {
      order,
      key: layerKey,
      diffId,
      how,
      bytes: pushed.uploaded,
      descriptor: { mediaType: MediaType.ociLayerGzip, digest, size },
    });
  }

  async commit(metadata: CacheMetadata): Promise<CommitResult> {
    this.writable();
    if (this.ref.digest && !this.ref.tag) {
      throw new CnbpError(CACHE_WRITE, `${this.name}: a cache image named by digest cannot be written`);
    }
    const wanted = referencedDiffIds(metadata, this.name);
    checkAllStaged(wanted, new Set(this.staged.keys()), this.name);
    const layers = [...this.staged.values()]
      .filter((l) => wanted.includes(l.diffId))
      .sort((a, b) => a.order - b.order);
    let bytesWritten = 0;
    const descriptors = layers.map((l) => l.descriptor);
    const diffIds = layers.map((l) => l.diffId);
    if (layers.length === 0) {
      const empty = emptyLayer();
      const descriptor = {
        mediaType: MediaType.ociLayerGzip,
        digest: sha256Digest(empty.blob),
        size: empty.blob.length,
      };
      bytesWritten += (await this.client.pushBlob(this.ref, descriptor, empty.blob)).uploaded;
      descriptors.push(descriptor);
      diffIds.push(empty.diffId);
    }
    const config = {
      architecture: architecture(),
      os: "linux",
      created: CREATED,
      config: { Labels: { [CACHE_METADATA]: serializeSpec(cacheMetadataLabel, metadata) } },
      rootfs: { type: "layers", diff_ids: diffIds },
    };
    const configBytes = jsonBytes(config);
    const configDescriptor = {
      mediaType: MediaType.ociConfig,
      digest: sha256Digest(configBytes),
      size: configBytes.length,
    };
    bytesWritten += (await this.client.pushBlob(this.ref, configDescriptor, configBytes)).uploaded;
    const manifestBytes = jsonBytes({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: descriptors,
    });
    const digest = await this.client.putManifest(this.ref, manifestBytes, MediaType.ociManifest);
    this.committed = true;
    bytesWritten += manifestBytes.length + layers.reduce((n, l) => n + l.bytes, 0);
    return {
      identifier: formatReference({ registry: this.ref.registry, repository: this.ref.repository, digest }),
      layers: layers.map(({ key, diffId, how, bytes }) => ({ key, diffId, how, bytes })),
      bytesWritten,
    };
  }

  private writable(): void {
    if (this.committed) throw new CnbpError(CACHE_WRITE, `${this.name}: the cache was committed already`);
  }
}
