/**
 * Reading OCI image layouts (the OCI image-layout spec: an `oci-layout` file, `index.json`, blobs under
 * `blobs/sha256/<hex>`), wherever they are stored: a directory (./layout.ts) or an oci-archive tar
 * (./archive.ts). Every blob read is checked against its digest as it streams; manifests, indexes and
 * configs are validated with the schemas of ../oci.ts. OCI and Docker v2 schema 2 manifests and manifest
 * lists are read.
 */
import { createHash } from "node:crypto";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { CnbpError, type Problem, ValidationError } from "../../errors.js";
import { describeIssue } from "../../spec/schema.js";
import {
  type Descriptor,
  Digest,
  ImageConfig,
  INDEX_TYPES,
  Index,
  MANIFEST_TYPES,
  Manifest,
  MediaType,
  selectPlatform,
} from "../oci.js";

export const OCI_LAYOUT_FILE = "oci-layout";
export const INDEX_FILE = "index.json";
export const IMAGE_LAYOUT_VERSION = "1.0.0";
/** The index.json annotation that names an image in a layout (`oci:<dir>:<name>` in skopeo). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** containerd's annotation with the full image reference (ref.name then holds only the tag). */
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";

export interface PlatformWanted {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export const DEFAULT_PLATFORM: PlatformWanted = { os: "linux", architecture: "amd64" };

/** A blob that the layout does not have. */
export class BlobNotFoundError extends CnbpError {
  constructor(
    readonly where: string,
    readonly digest: Digest,
    hints: readonly string[] = [],
  ) {
    super("CNBP_BLOB_NOT_FOUND", `${where}: blob ${digest} is not in the layout`, { hints });
  }
}

/** A blob whose content does not match its digest (or the size its descriptor states). */
export class BlobCorruptError extends CnbpError {
  constructor(
    readonly where: string,
    readonly digest: Digest,
    message: string,
  ) {
    super("CNBP_BLOB_CORRUPT", `${where}: ${message}`);
  }
}

/** An index.json entry. */
export interface LayoutEntry {
  /** Its `org.opencontainers.image.ref.name` annotation, when it has one. */
  readonly ref?: string;
  readonly descriptor: Descriptor;
}

/** An image read from a layout: the manifest for one platform and its config. */
export interface LayoutImage {
  /** The index.json entry the image was found through. */
  readonly entry: Descriptor;
  /** The entry's `org.opencontainers.image.ref.name`, when it has one. */
  readonly ref?: string;
  /** The manifest's descriptor: the entry itself, or the one chosen for the platform from an index. */
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
}

export const OCTET_STREAM = "application/octet-stream";

export function blobPath(digest: Digest): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

export function hexOf(digest: string): string {
  const parsed = Digest.safeParse(digest);
  if (!parsed.success) throw new CnbpError("CNBP_INVALID_DIGEST", `"${digest}" is not a sha256 digest`);
  return digest.slice("sha256:".length);
}

export function refNameOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[REF_NAME_ANNOTATION];
}

export function isDigest(text: string): text is Digest {
  return Digest.safeParse(text).success;
}

function formatPlatform(p: { os: string; architecture: string; variant?: string | undefined }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** Parses JSON bytes and validates them; a ValidationError names `where` and every problem. */
export function parseJsonAs<T>(schema: z.ZodType<T>, bytes: Uint8Array, where: string): T {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new ValidationError(where, [
      { file: where, path: [], message: `is not JSON: ${(err as Error).message}`, severity: "error" },
    ]);
  }
  const result = schema.safeParse(data, { reportInput: true, error: describeIssue });
  if (!result.success) {
    const problems = result.error.issues.map(
      (iss): Problem => ({
        file: where,
        path: iss.path as (string | number)[],
        message: iss.message,
        severity: "error",
      }),
    );
    throw new ValidationError(where, problems);
  }
  return result.data;
}

const OciLayoutFile = z.looseObject({ imageLayoutVersion: z.string() });

/** Checks an `oci-layout` file's content. */
export function checkLayoutFile(bytes: Uint8Array, where: string): void {
  const parsed = parseJsonAs(OciLayoutFile, bytes, where);
  if (!/^1\.\d+\.\d+$/.test(parsed.imageLayoutVersion)) {
    throw new CnbpError(
      "CNBP_LAYOUT_UNSUPPORTED",
      `${where}: imageLayoutVersion "${parsed.imageLayoutVersion}" is not supported (cnbp reads 1.x layouts)`,
    );
  }
}

/** Passes chunks through, hashing them; fails at the end if the digest or size is not the expected one. */
class VerifyingStream extends Transform {
  readonly #hash = createHash("sha256");
  #size = 0;

  constructor(
    private readonly where: string,
    private readonly digest: Digest,
    private readonly size: number | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#size += chunk.length;
    if (this.size !== undefined && this.#size > this.size) {
      done(
        new BlobCorruptError(
          this.where,
          this.digest,
          `blob is larger than the ${this.size} bytes its descriptor states`,
        ),
      );
      return;
    }
    this.#hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const actual = `sha256:${this.#hash.digest("hex")}`;
    if (actual !== this.digest) {
      done(
        new BlobCorruptError(
          this.where,
          this.digest,
          `content does not match digest ${this.digest}: it hashes to ${actual} (${this.#size} bytes)`,
        ),
      );
    } else if (this.size !== undefined && this.#size !== this.size) {
      done(
        new BlobCorruptError(
          this.where,
          this.digest,
          `blob is ${this.#size} bytes, its descriptor states ${this.size}`,
        ),
      );
    } else done();
  }
}

type Kind = "manifest" | "index";

function parseOrUndefined(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

function kindOf(mediaType: string | undefined, doc: unknown): Kind | undefined {
  if (mediaType && MANIFEST_TYPES.includes(mediaType)) return "manifest";
  if (mediaType && INDEX_TYPES.includes(mediaType)) return "index";
  if (typeof doc !== "object" || doc === null) return undefined;
  const own = (doc as { mediaType?: unknown }).mediaType;
  if (typeof own === "string" && MANIFEST_TYPES.includes(own)) return "manifest";
  if (typeof own === "string" && INDEX_TYPES.includes(own)) return "index";
  if (Array.isArray((doc as { manifests?: unknown }).manifests)) return "index";
  if ("config" in doc && "layers" in doc) return "manifest";
  return undefined;
}

/**
 * Reading an OCI layout, wherever it is stored (a directory, an oci-archive tar): blobs verified against
 * their digests, JSON blobs validated, images found by name or digest and resolved for a platform.
 */
export abstract class OciLayoutReader {
  /** The directory or file the layout is in, for messages. */
  abstract readonly location: string;

  /** How to name a file of the layout (`index.json`, `blobs/sha256/<hex>`) in a message. */
  abstract describe(path: string): string;

  /** The raw bytes of index.json. */
  abstract indexBytes(): Promise<Buffer>;

  /** The size of a blob, or undefined when the layout does not have it. */
  abstract blobSize(digest: Digest): Promise<number | undefined>;

  /** Digests of every blob the layout has, sorted. */
  abstract listBlobs(): Promise<Digest[]>;

  /** The bytes of a blob the layout has (`size` as blobSize said), unverified. */
  protected abstract openRaw(digest: Digest, size: number): Promise<Readable>;

  async hasBlob(digest: Digest): Promise<boolean> {
    return (await this.blobSize(digest)) !== undefined;
  }

  /** index.json, validated. */
  async index(): Promise<Index> {
    return parseJsonAs(Index, await this.indexBytes(), this.describe(INDEX_FILE));
  }

  /** The index.json entries. */
  async listImages(): Promise<LayoutEntry[]> {
    const index = await this.index();
    return index.manifests.map((descriptor) => {
      const ref = refNameOf(descriptor);
      return ref === undefined ? { descriptor } : { ref, descriptor };
    });
  }

  /**
   * A blob as a stream, checked against its digest (and the descriptor's size) as it is read: the stream
   * fails with a BlobCorruptError naming the blob at the end (or as soon as it is too long).
   */
  async openBlob(blob: Descriptor | Digest): Promise<Readable> {
    const digest = typeof blob === "string" ? blob : blob.digest;
    const where = this.describe(blobPath(digest));
    const size = await this.blobSize(digest);
    if (size === undefined) throw new BlobNotFoundError(where, digest);
    const stated = typeof blob === "string" ? undefined : blob.size;
    if (stated !== undefined && stated !== size) {
      throw new BlobCorruptError(where, digest, `blob is ${size} bytes, its descriptor states ${stated}`);
    }
    const verifier = new VerifyingStream(where, digest, stated);
    const raw = await this.openRaw(digest, size);
    pipeline(raw, verifier).catch(() => {
      // the error reaches whoever reads `verifier` (pipeline destroys it with the error)
    });
    return verifier;
  }

  /** A whole blob, verified. */
  async readBlob(blob: Descriptor | Digest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openBlob(blob)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** A JSON blob, verified and validated with `schema`. */
  async readJson<T>(blob: Descriptor | Digest, schema: z.ZodType<T>): Promise<T> {
    const digest = typeof blob === "string" ? blob : blob.digest;
    return parseJsonAs(schema, await this.readBlob(blob), this.describe(blobPath(digest)));
  }

  /** An image manifest (OCI or Docker v2 schema 2). */
  readManifest(blob: Descriptor | Digest): Promise<Manifest> {
    return this.readJson(blob, Manifest);
  }

  /** An image index (OCI index or Docker manifest list). */
  readImageIndex(blob: Descriptor | Digest): Promise<Index> {
    return this.readJson(blob, Index);
  }

  /** An image config (OCI or Docker). */
  readConfig(blob: Descriptor | Digest): Promise<ImageConfig> {
    return this.readJson(blob, ImageConfig);
  }

  /**
   * The index.json entry named by `selector`: a ref name (`org.opencontainers.image.ref.name`, or
   * containerd's full image name), a digest (of an entry, or of any manifest/index blob in the layout),
   * or nothing when the layout holds exactly one entry.
   */
  async findEntry(selector?: string): Promise<Descriptor> {
    const index = await this.index();
    const entries = index.manifests;
    if (selector === undefined) {
      if (entries.length === 1) return entries[0] as Descriptor;
      const refs = entries.map(refNameOf).filter((r) => r !== undefined);
      throw new CnbpError(
        "CNBP_IMAGE_NOT_FOUND",
        entries.length === 0
          ? `${this.location}: the layout has no images`
          : `${this.location}: the layout has ${entries.length} images, say which one`,
        refs.length > 0 ? { hints: [`names: ${refs.join(", ")}`] } : {},
      );
    }
    if (isDigest(selector)) {
      const entry = entries.find((m) => m.digest === selector);
      if (entry) return entry;
      const size = await this.blobSize(selector);
      if (size !== undefined) {
        const doc = parseOrUndefined(await this.readBlob(selector));
        const own =
          typeof doc === "object" && doc !== null ? (doc as { mediaType?: unknown }).mediaType : undefined;
        const kind = kindOf(undefined, doc);
        const mediaType =
          typeof own === "string"
            ? own
            : kind === "index"
              ? MediaType.ociIndex
              : kind === "manifest"
                ? MediaType.ociManifest
                : OCTET_STREAM;
        return { mediaType, digest: selector, size };
      }
    } else {
      const entry =
        entries.find((m) => refNameOf(m) === selector) ??
        entries.find((m) => m.annotations?.[CONTAINERD_NAME_ANNOTATION] === selector);
      if (entry) return entry;
    }
    const refs = entries.map(refNameOf).filter((r) => r !== undefined);
    throw new CnbpError(
      "CNBP_IMAGE_NOT_FOUND",
      `${this.location}: no image "${selector}" in the layout`,
      refs.length > 0 ? { hints: [`the layout has: ${refs.join(", ")}`] } : {},
    );
  }

  /**
   * Reads an image: finds its entry (see findEntry), follows an index or manifest list to the manifest for
   * `platform` (default linux/amd64; a manifest entry is taken as it is), and reads the config. Layer blobs
   * are not read, so a sparse layout is fine (see layerPresence).
   */
  async readImage(selector?: string, opts: { platform?: PlatformWanted } = {}): Promise<LayoutImage> {
    const entry = await this.findEntry(selector);
    const platform = opts.platform ?? DEFAULT_PLATFORM;
    const { descriptor, manifest } = await this.resolveManifest(entry, platform, selector ?? entry.digest, 0);
    const config = await this.readConfig(manifest.config);
    const ref = refNameOf(entry);
    return { entry, ...(ref === undefined ? {} : { ref }), descriptor, manifest, config };
  }

  /** For each layer of the manifest, in order, whether its blob is in the layout. */
  async layerPresence(manifest: Manifest): Promise<boolean[]> {
    return Promise.all(manifest.layers.map((layer) => this.hasBlob(layer.digest)));
  }

  private async resolveManifest(
    descriptor: Descriptor,
    platform: PlatformWanted,
    name: string,
    depth: number,
  ): Promise<{ descriptor: Descriptor; manifest: Manifest }> {
    const where = this.describe(blobPath(descriptor.digest));
    const bytes = await this.readBlob(descriptor);
    const doc = parseOrUndefined(bytes);
    const kind = kindOf(descriptor.mediaType, doc);
    if (kind === "manifest") return { descriptor, manifest: parseJsonAs(Manifest, bytes, where) };
    if (kind !== "index") {
      throw new CnbpError(
        "CNBP_NOT_AN_IMAGE",
        `${where}: "${name}" is not an image manifest or index (media type ${descriptor.mediaType})`,
      );
    }
    const index = parseJsonAs(Index, bytes, where);
    let chosen = selectPlatform(index, platform);
    if (!chosen) {
      const manifests = index.manifests.filter((m) => MANIFEST_TYPES.includes(m.mediaType));
      if (manifests.length === 1 && !manifests[0]?.platform) chosen = manifests[0];
    }
    if (chosen) return this.resolveManifest(chosen, platform, name, depth + 1);
    if (depth < 4) {
      for (const child of index.manifests) {
        if (!INDEX_TYPES.includes(child.mediaType)) continue;
        if (child.platform && formatPlatform(child.platform) !== formatPlatform(platform)) continue;
        try {
          return await this.resolveManifest(child, platform, name, depth + 1);
        } catch (err) {
          if (!(err instanceof CnbpError && err.code === "CNBP_PLATFORM_NOT_FOUND")) throw err;
        }
      }
    }
    const available = index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : []));
    throw new CnbpError(
      "CNBP_PLATFORM_NOT_FOUND",
      `${this.location}: image "${name}" has no manifest for ${formatPlatform(platform)}`,
      { hints: [available.length > 0 ? `it has: ${available.join(", ")}` : "its index names no platforms"] },
    );
  }
}
