/**
 * What both cache kinds share (shared/spec/platform.md 8.1): the interface the restorer and the exporter use,
 * the error for a cached layer that cannot be trusted, metadata checks, and the streams that hash layer bytes
 * as they flow so that nothing read from or written to a cache is taken on trust.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough, pipeline } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import {
  type CacheMetadata,
  CnbpError,
  cacheMetadataLabel,
  Digest,
  formatProblem,
  RegistryError,
  validateSpec,
} from "@cnbp/core";

/** The cache metadata's label name, also the file name in a cache directory. */
export const CACHE_METADATA = "io.buildpacks.lifecycle.cache.metadata";

/** How a cached layer got into a new cache. */
export type CachedHow = "reused" | "added" | "exists" | "mounted" | "uploaded";

export interface CommittedLayer {
  /** `<bp-id>:<layer>`, or the SBOM layer's key, as given to reuse/add. */
  readonly key: string;
  readonly diffId: string;
  /** `reused`: taken from the previous cache; `added`: copied into the directory; else what the registry did. */
  readonly how: CachedHow;
  /** Bytes written for it: copied into the directory, or uploaded to the registry. */
  readonly bytes: number;
}

export interface CommitResult {
  /** The committed directory, or the cache image's digest reference. */
  readonly identifier: string;
  readonly layers: readonly CommittedLayer[];
  /** Every byte written: layers, plus the config and manifest for an image, or the metadata file. */
  readonly bytesWritten: number;
}

/**
 * A layer cache, read side and write side. Reading sees the committed cache as it was when opened. Writing
 * builds a new cache from nothing: every layer the next build should find is either reused from the committed
 * cache or added, and `commit` replaces the committed cache with it (anything not reused or added is gone).
 */
export interface LayerCache {
  readonly kind: "directory" | "image";
  /** How messages name it: `cache directory <dir>` or `cache image <ref>`. */
  readonly name: string;
  /** A committed cache was there when it was opened (even a corrupt one). */
  readonly found: boolean;
  /** The committed cache's metadata; `{}` when there is none, or it was corrupt (a warning said so). */
  readonly metadata: CacheMetadata;

  /**
   * The committed layer's uncompressed tar, checked as it is read: the iteration throws a CacheCorruptError
   * when the bytes do not hash to `diffId` (after yielding them all: a consumer must discard what it made of
   * them). Throws a CacheCorruptError at once when the layer is missing.
   */
  openLayer(diffId: string, layerKey: string): Promise<AsyncIterable<Buffer>>;

  /**
   * Keeps a committed layer in the new cache. Returns false (with a warning) when the committed layer is
   * missing or corrupt: the caller should then `add` it.
   */
  reuse(layerKey: string, diffId: string): Promise<boolean>;

  /**
   * Puts a layer tar (plain or gzipped; the file is not changed) into the new cache. Its uncompressed bytes
   * must hash to `diffId`, or it throws. Adding the same diffID twice stores it once.
   */
  add(layerKey: string, tarPath: string, diffId: string): Promise<void>;

  /**
   * Makes the new cache the committed one, with this metadata. Every `sha` the metadata names (layers and
   * `sbom`) must have been reused or added; layers reused or added but not named are left out.
   */
  commit(metadata: CacheMetadata): Promise<CommitResult>;
}

/** A cached layer that is missing or whose bytes are not what the metadata says: never used. */
export class CacheCorruptError extends CnbpError {
  constructor(
    readonly cacheName: string,
    readonly layerKey: string,
    readonly diffId: string,
    readonly problem: string,
  ) {
    super("CNBP_CACHE_CORRUPT", `${cacheName}: cached layer ${layerKey} (${diffId}) ${problem}`);
  }
}

/** Misuse of the write side (a bad diffID, a tar that does not match it, metadata naming unknown layers). */
export const CACHE_WRITE = "CNBP_CACHE_WRITE";

export function checkDiffId(diffId: string, what: string): string {
  if (!Digest.safeParse(diffId).success) {
    throw new CnbpError(CACHE_WRITE, `${what}: ${JSON.stringify(diffId)} is not a sha256 diffID`);
  }
  return diffId;
}

/**
 * Cache metadata read from a cache: valid, or undefined with the reason (the first error found). The
 * schema also makes sure every `sha` is a digest, so none can name a path outside the cache.
 */
export function parseCacheMetadata(
  text: string,
  file: string,
): { ok: true; value: CacheMetadata } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const reason = (err as Error).message.replace(/ in JSON at position \d+.*$/, "");
    return { ok: false, problem: `${file}: is not valid JSON: ${reason}` };
  }
  const parsed = validateSpec(cacheMetadataLabel, json, file);
  if (!parsed.ok) {
    const first = parsed.problems.find((p) => p.severity === "error") ?? parsed.problems[0];
    return { ok: false, problem: first ? formatProblem(first) : `${file}: invalid` };
  }
  return { ok: true, value: parsed.value };
}

/** Checks metadata given to commit and returns the diffIDs it names (layers, then the SBOM layer). */
export function referencedDiffIds(metadata: CacheMetadata, cacheName: string): string[] {
  const parsed = validateSpec(cacheMetadataLabel, metadata, `${cacheName} new metadata`);
  if (!parsed.ok) {
    const first = parsed.problems.find((p) => p.severity === "error");
    throw new CnbpError(CACHE_WRITE, first ? formatProblem(first) : `${cacheName}: invalid metadata`);
  }
  const shas: string[] = [];
  for (const bp of metadata.buildpacks ?? []) {
    for (const layer of Object.values(bp.layers ?? {})) shas.push(layer.sha);
  }
  if (metadata.sbom?.sha) shas.push(metadata.sbom.sha);
  return [...new Set(shas)];
}

/** Throws when metadata names layers that were neither reused nor added. */
export function checkAllStaged(wanted: readonly string[], staged: ReadonlySet<string>, cacheName: string) {
  const missing = wanted.filter((d) => !staged.has(d));
  if (missing.length > 0) {
    throw new CnbpError(
      CACHE_WRITE,
      `${cacheName}: the new metadata names layers that were neither reused nor added: ${missing.join(", ")}`,
    );
  }
}

/** Errors of a byte source that mean the cache is at fault (as opposed to the network or a full disk). */
function corruptionReason(err: unknown): string | undefined {
  if (err instanceof RegistryError) {
    return err.code === "CNBP_REGISTRY_DIGEST_MISMATCH" || err.code === "CNBP_REGISTRY_BLOB_NOT_FOUND"
      ? err.message
      : undefined;
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && code.startsWith("Z_"))
    return `is not valid gzip: ${(err as Error).message}`;
  return undefined;
}

/**
 * The uncompressed bytes of a layer blob (gunzipped when it starts with the gzip magic bytes), hashed as they
 * flow. After the last byte it throws `corrupt(problem)` when they do not hash to `diffId`; errors of the
 * source that mean corruption (bad gzip, a registry digest mismatch) become `corrupt` too.
 */
export async function* verifiedTar(
  source: AsyncIterable<Uint8Array>,
  diffId: string,
  corrupt: (problem: string) => Error,
): AsyncGenerator<Buffer> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of gunzipped(source)) {
      hash.update(chunk);
      yield chunk;
    }
  } catch (err) {
    const reason = corruptionReason(err);
    if (reason !== undefined) throw corrupt(`is corrupt: ${reason}`);
    throw err;
  }
  const found = `sha256:${hash.digest("hex")}`;
  if (found !== diffId) throw corrupt(`is corrupt: its content has diffID ${found}`);
}

/** The bytes, gunzipped when they start with 1f 8b. */
async function* gunzipped(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 2) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      while (!ended) {
        const r = await it.next();
        if (r.done) ended = true;
        else yield Buffer.from(r.value);
      }
    } finally {
      // stopped early: let go of the source (closes a file)
      if (!ended) await it.return?.();
    }
  }
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield* rest();
    return;
  }
  const out = new PassThrough();
  // errors of the source or of zlib destroy `out`, so iterating it throws them
  pipeline(rest(), createGunzip(), out, () => {});
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } finally {
    out.destroy();
  }
}

/** A file's bytes. */
export function fileChunks(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/** Whether a file starts with the gzip magic bytes. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** gzip level of cache image layers: fixed, so that a layer always gets the same digest. */
const GZIP_LEVEL = 6;

/**
 * A plain tar gzipped the way layers are (fixed level; header OS byte 255 as Go writes it), so that the same
 * tar always gives the same digest.
 */
export async function* gzipChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const out = new PassThrough();
  pipeline(source, createGzip({ level: GZIP_LEVEL }), out, () => {});
  let offset = 0;
  try {
    for await (let chunk of out as AsyncIterable<Buffer>) {
      if (offset <= 9 && offset + chunk.length > 9) {
        chunk = Buffer.from(chunk);
        chunk[9 - offset] = 255;
      }
      offset += chunk.length;
      yield chunk;
    }
  } finally {
    out.destroy();
  }
}

/** sha256 and length of a byte stream. */
export async function digestOf(chunks: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

/** Thrown by the write side when a tar does not hash to the diffID it was given. */
export function diffIdMismatch(cacheName: string, layerKey: string, tarPath: string, diffId: string) {
  return (problem: string) =>
    new CnbpError(
      CACHE_WRITE,
      `${cacheName}: layer ${layerKey}: ${tarPath} is not the layer ${diffId}: ${problem.replace(/^is corrupt: /, "")}`,
    );
}
