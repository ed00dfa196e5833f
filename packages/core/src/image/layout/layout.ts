/**
 * OCI image layout directories, read and written: `-layout` mode (platform.md section 11), the extended
 * run image (extensions.md section 6, a *sparse* layout: only some layer blobs present), and the
 * directory form of a `.cnb` buildpackage (distribution.md section 2; the tar form is ./archive.ts).
 * cnbp writes OCI media types only.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { CnbpError } from "../../errors.js";
import {
  type Descriptor,
  type Digest,
  type ImageConfig,
  INDEX_TYPES,
  Index,
  jsonBytes,
  MANIFEST_TYPES,
  Manifest,
  MediaType,
} from "../oci.js";
import {
  BlobCorruptError,
  BlobNotFoundError,
  blobPath,
  checkLayoutFile,
  hexOf,
  IMAGE_LAYOUT_VERSION,
  INDEX_FILE,
  isDigest,
  type LayoutImage,
  OCI_LAYOUT_FILE,
  OCTET_STREAM,
  OciLayoutReader,
  parseJsonAs,
  REF_NAME_ANNOTATION,
  refNameOf,
} from "./reader.js";

/** A blob's content: bytes, or a stream (a Node Readable is one) of chunks. */
export type BlobSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface WriteBlobOptions {
  /** Default `application/octet-stream`. */
  readonly mediaType?: string;
  /** The digest the caller expects: verified, and when the blob is already there it is not written again. */
  readonly digest?: Digest;
  /** The size the caller expects: verified. */
  readonly size?: number;
  readonly annotations?: Record<string, string>;
}

export interface ImageToWrite {
  readonly config: ImageConfig;
  /** Layer descriptors, bottom first; their blobs are written beforehand (writeBlob, writeLayer, copyBlob). */
  readonly layers: readonly Descriptor[];
  /** Name in index.json (`org.opencontainers.image.ref.name`); an entry with the same name is replaced. */
  readonly ref?: string;
  /** Manifest annotations. */
  readonly annotations?: Record<string, string>;
  /** Allow layers whose blobs are absent (a sparse layout, as the extended run image is). */
  readonly sparse?: boolean;
  /** Add the manifest to index.json (default true). */
  readonly addToIndex?: boolean;
}

export interface GcResult {
  readonly removed: readonly Digest[];
  readonly freedBytes: number;
}

const HEX = /^[a-f0-9]{64}$/;
const TMP_PREFIX = ".tmp-";
// OCI image-layout spec: ref.name grammar
const REF_NAME =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** An OCI image layout directory, read and written. */
export class OciLayout extends OciLayoutReader {
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {
    super();
  }

  get location(): string {
    return this.dir;
  }

  /** Opens an existing layout: `oci-layout` must say a 1.x version and `index.json` must be there. */
  static async open(dir: string): Promise<OciLayout> {
    const layout = new OciLayout(dir);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, OCI_LAYOUT_FILE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      throw new CnbpError(
        "CNBP_LAYOUT_NOT_FOUND",
        `${dir}: not an OCI image layout (it has no ${OCI_LAYOUT_FILE} file)`,
      );
    }
    checkLayoutFile(bytes, layout.describe(OCI_LAYOUT_FILE));
    await layout.indexBytes();
    return layout;
  }

  /** Opens the layout in `dir`, first making it (directories, `oci-layout`, an empty `index.json`) as needed. */
  static async create(dir: string): Promise<OciLayout> {
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    const empty: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    await writeIfAbsent(
      join(dir, OCI_LAYOUT_FILE),
      JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }),
    );
    await writeIfAbsent(join(dir, INDEX_FILE), jsonBytes(empty));
    return OciLayout.open(dir);
  }

  describe(path: string): string {
    return join(this.dir, path);
  }

  async indexBytes(): Promise<Buffer> {
    try {
      return await readFile(join(this.dir, INDEX_FILE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      throw new CnbpError(
        "CNBP_LAYOUT_INVALID",
        `${this.describe(INDEX_FILE)}: missing (an OCI layout needs one)`,
      );
    }
  }

  async blobSize(digest: Digest): Promise<number | undefined> {
    try {
      const s = await stat(join(this.dir, blobPath(digest)));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async listBlobs(): Promise<Digest[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, "blobs", "sha256"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return names
      .filter((n) => HEX.test(n))
      .sort()
      .map((n) => `sha256:${n}`);
  }

  protected async openRaw(digest: Digest): Promise<Readable> {
    return createReadStream(join(this.dir, blobPath(digest)));
  }

  /**
   * Writes a blob: hashed while it is written to a temporary file in the layout, then renamed into place.
   * With `digest`, the content is verified and a blob already there is not written again (a stream source is
   * then destroyed unread).
   */
  async writeBlob(source: BlobSource, opts: WriteBlobOptions = {}): Promise<Descriptor> {
    const mediaType = opts.mediaType ?? OCTET_STREAM;
    const describe = (digest: Digest, size: number): Descriptor => ({
      mediaType,
      digest,
      size,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    });
    if (opts.digest !== undefined) {
      hexOf(opts.digest);
      const size = await this.blobSize(opts.digest);
      if (size !== undefined && (opts.size === undefined || opts.size === size)) {
        if (source instanceof Readable) source.destroy();
        return describe(opts.digest, size);
      }
    }
    const tmp = join(this.dir, `${TMP_PREFIX}${randomUUID()}`);
    await mkdir(join(this.dir, "blobs", "sha256"), { recursive: true });
    try {
      let digest: Digest;
      let size: number;
      if (source instanceof Uint8Array) {
        digest = `sha256:${createHash("sha256").update(source).digest("hex")}`;
        size = source.length;
        this.checkWritten(digest, size, opts);
        if (await this.hasBlob(digest)) return describe(digest, size);
        await writeFile(tmp, source, { flag: "wx" });
      } else {
        const hash = createHash("sha256");
        let count = 0;
        await pipeline(
          source,
          async function* (chunks: AsyncIterable<Uint8Array>) {
            for await (const chunk of chunks) {
              hash.update(chunk);
              count += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(tmp, { flags: "wx" }),
        );
        digest = `sha256:${hash.digest("hex")}`;
        size = count;
        this.checkWritten(digest, size, opts);
      }
      if (await this.hasBlob(digest)) await rm(tmp, { force: true });
      else await rename(tmp, join(this.dir, blobPath(digest)));
      return describe(digest, size);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Puts a file that the caller has just written and hashed into the layout as the blob `digest`, by a hard
   * link when the file is on the layout's filesystem (no byte copied), else by `writeBlob`, which copies and
   * verifies it. The file must not change afterwards.
   */
  async linkBlob(path: string, descriptor: Descriptor): Promise<Descriptor> {
    const dest = join(this.dir, blobPath(descriptor.digest));
    if ((await this.blobSize(descriptor.digest)) === descriptor.size) return descriptor;
    await mkdir(join(this.dir, "blobs", "sha256"), { recursive: true });
    try {
      await link(path, dest);
      return descriptor;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "EEXIST") throw err;
    }
    return this.writeBlob(createReadStream(path), {
      digest: descriptor.digest,
      size: descriptor.size,
      mediaType: descriptor.mediaType,
    });
  }

  private checkWritten(digest: Digest, size: number, opts: WriteBlobOptions): void {
    if (opts.digest !== undefined && digest !== opts.digest) {
      throw new BlobCorruptError(
        this.describe(blobPath(opts.digest)),
        opts.digest,
        `the content written hashes to ${digest} (${size} bytes), not to the digest stated`,
      );
    }
    if (opts.size !== undefined && size !== opts.size) {
      throw new BlobCorruptError(
        this.describe(blobPath(digest)),
        digest,
        `the content written is ${size} bytes, not the ${opts.size} stated`,
      );
    }
  }

  /** Writes a value as a compact JSON blob (the bytes cnbp digests, see jsonBytes). */
  writeJson(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.writeBlob(jsonBytes(value), { mediaType });
  }

  /**
   * Writes a layer from an uncompressed tar: gzip-compressed (default) or as it is. Returns the layer's
   * descriptor and its diff ID (the digest of the uncompressed tar, for the config's rootfs).
   */
  async writeLayer(
    tar: BlobSource,
    opts: { compression?: "gzip" | "none"; annotations?: Record<string, string> } = {},
  ): Promise<{ descriptor: Descriptor; diffId: Digest }> {
    const annotations = opts.annotations ? { annotations: opts.annotations } : {};
    if (opts.compression === "none") {
      const descriptor = await this.writeBlob(tar, { mediaType: MediaType.ociLayer, ...annotations });
      return { descriptor, diffId: descriptor.digest };
    }
    const hash = createHash("sha256");
    const gzip = createGzip();
    const source: AsyncIterable<Uint8Array> = tar instanceof Uint8Array ? Readable.from([tar]) : tar;
    const [, descriptor] = await Promise.all([
      pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            yield chunk;
          }
        },
        gzip,
      ),
      this.writeBlob(gzip, { mediaType: MediaType.ociLayerGzip, ...annotations }),
    ]);
    return { descriptor, diffId: `sha256:${hash.digest("hex")}` };
  }

  /** Copies a blob from another layout (verified); nothing is read when this layout has it already. */
  async copyBlob(from: OciLayoutReader, blob: Descriptor): Promise<Descriptor> {
    if ((await this.blobSize(blob.digest)) === blob.size) return blob;
    await this.writeBlob(await from.openBlob(blob), {
      mediaType: blob.mediaType,
      digest: blob.digest,
      size: blob.size,
    });
    return blob;
  }

  /**
   * Writes an image: config, then an OCI manifest over the given layers, then (unless `addToIndex` is false)
   * an index.json entry named `ref`. The layer blobs must be there unless `sparse`.
   */
  async writeImage(image: ImageToWrite): Promise<LayoutImage> {
    const diffIds = image.config.rootfs.diff_ids.length;
    if (diffIds !== image.layers.length) {
      throw new CnbpError(
        "CNBP_INVALID_IMAGE",
        `${this.dir}: image${image.ref ? ` "${image.ref}"` : ""} has ${image.layers.length} layers but its config lists ${diffIds} diff IDs`,
      );
    }
    if (image.ref !== undefined) checkRefName(image.ref);
    if (!image.sparse) {
      const presence = await Promise.all(image.layers.map((l) => this.blobSize(l.digest)));
      presence.forEach((size, i) => {
        const layer = image.layers[i] as Descriptor;
        if (size === undefined) {
          throw new BlobNotFoundError(this.describe(blobPath(layer.digest)), layer.digest, [
            "write layer blobs before the image, or write it with sparse: true",
          ]);
        }
      });
    }
    const configDescriptor = await this.writeJson(image.config, MediaType.ociConfig);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: [...image.layers],
      ...(image.annotations ? { annotations: image.annotations } : {}),
    };
    const written = await this.writeJson(manifest, MediaType.ociManifest);
    const { os, architecture, variant } = image.config;
    const entry: Descriptor = {
      ...written,
      ...(image.ref !== undefined ? { annotations: { [REF_NAME_ANNOTATION]: image.ref } } : {}),
      platform: { architecture, os, ...(variant ? { variant } : {}) },
    };
    if (image.addToIndex !== false) await this.addEntry(entry);
    return {
      entry,
      ...(image.ref !== undefined ? { ref: image.ref } : {}),
      descriptor: written,
      manifest,
      config: image.config,
    };
  }

  /**
   * Adds an entry to index.json, named `ref` (or by the descriptor's own ref.name annotation). An entry of
   * the same name is replaced in place; without a name, an unnamed entry with the same digest is.
   */
  addEntry(descriptor: Descriptor, ref?: string): Promise<void> {
    const name = ref ?? refNameOf(descriptor);
    if (name !== undefined) checkRefName(name);
    const entry: Descriptor =
      name === undefined
        ? descriptor
        : { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: name } };
    return this.exclusive(async () => {
      const index = await this.index();
      const same = (m: Descriptor) =>
        name !== undefined ? refNameOf(m) === name : refNameOf(m) === undefined && m.digest === entry.digest;
      const manifests: Descriptor[] = [];
      let placed = false;
      for (const m of index.manifests) {
        if (!same(m)) manifests.push(m);
        else if (!placed) {
          manifests.push(entry);
          placed = true;
        }
      }
      if (!placed) manifests.push(entry);
      await this.writeIndex({ ...index, manifests });
    });
  }

  /** Removes the index.json entries named `selector` (ref name, or digest); returns how many. Blobs stay (see gc). */
  removeEntry(selector: string): Promise<number> {
    return this.exclusive(async () => {
      const index = await this.index();
      const matches = (m: Descriptor) =>
        isDigest(selector) ? m.digest === selector : refNameOf(m) === selector;
      const manifests = index.manifests.filter((m) => !matches(m));
      const removed = index.manifests.length - manifests.length;
      if (removed > 0) await this.writeIndex({ ...index, manifests });
      return removed;
    });
  }

  /**
   * Deletes the blobs that no index.json entry reaches (through indexes, manifests, configs and layers).
   * Do not run it while another writer is adding an image to the same layout: its blobs are not reachable
   * until its index.json entry is written.
   */
  gc(): Promise<GcResult> {
    return this.exclusive(async () => {
      const reachable = new Set<string>();
      const walk = async (d: Descriptor): Promise<void> => {
        if (reachable.has(d.digest)) return;
        reachable.add(d.digest);
        if (!(await this.hasBlob(d.digest))) return;
        const isManifest = MANIFEST_TYPES.includes(d.mediaType);
        const isIndex = INDEX_TYPES.includes(d.mediaType);
        if (!isManifest && !isIndex) return;
        const bytes = await this.readBlob(d);
        const where = this.describe(blobPath(d.digest));
        if (isIndex) {
          for (const child of parseJsonAs(Index, bytes, where).manifests) await walk(child);
        } else {
          const manifest = parseJsonAs(Manifest, bytes, where);
          reachable.add(manifest.config.digest);
          for (const layer of manifest.layers) reachable.add(layer.digest);
        }
      };
      for (const entry of (await this.index()).manifests) await walk(entry);
      const removed: Digest[] = [];
      let freedBytes = 0;
      for (const digest of await this.listBlobs()) {
        if (reachable.has(digest)) continue;
        freedBytes += (await this.blobSize(digest)) ?? 0;
        await rm(join(this.dir, blobPath(digest)), { force: true });
        removed.push(digest);
      }
      return { removed, freedBytes };
    });
  }

  /** Replaces index.json (atomically: a temporary file renamed over it). */
  private async writeIndex(index: Index): Promise<void> {
    const { schemaVersion, mediaType, manifests, ...rest } = index;
    const ordered = { schemaVersion, mediaType: mediaType ?? MediaType.ociIndex, manifests, ...rest };
    const tmp = join(this.dir, `${TMP_PREFIX}${randomUUID()}`);
    try {
      await writeFile(tmp, jsonBytes(ordered), { flag: "wx" });
      await rename(tmp, join(this.dir, INDEX_FILE));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Runs index.json updates of this object one at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

async function writeIfAbsent(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(file, data, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

function checkRefName(ref: string): void {
  if (!REF_NAME.test(ref)) {
    throw new CnbpError(
      "CNBP_INVALID_REFERENCE",
      `"${ref}" is not a valid image name in an OCI layout (letters and digits, separated by - . _ : @ + -- or /)`,
    );
  }
}

/**
 * Copies every blob of `from` (verified) into `to` and adds its index.json entries (same-named entries in
 * `to` are replaced).
 */
export async function copyLayout(from: OciLayoutReader, to: OciLayout): Promise<void> {
  for (const digest of await from.listBlobs()) {
    const size = (await from.blobSize(digest)) as number;
    await to.copyBlob(from, { mediaType: OCTET_STREAM, digest, size });
  }
  for (const entry of (await from.index()).manifests) await to.addEntry(entry);
}
