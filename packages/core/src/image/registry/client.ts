/**
 * A client for the OCI distribution API (and Docker's registry v2, which it grew from), shared by the
 * lifecycle phases and the platform: manifests by tag or digest, blobs streamed and checked against their
 * digests, blob uploads that never send what the registry already has, cross-repository mounts.
 *
 * Every manifest fetched by digest and every blob is verified; blobs stream (nothing whole in memory), a
 * download whose connection drops resumes with a Range request. Idempotent requests are retried on 5xx,
 * 429 and broken connections (./transport.ts); an upload that fails that way starts a new session.
 */
import { Readable } from "node:stream";
import { Digest, INDEX_TYPES, MANIFEST_TYPES, MediaType, sha256Digest } from "../oci.js";
import { formatReference, type ImageReference, parseReference, registryApiHost } from "../reference.js";
import { Authenticator, repositoryScope } from "./auth.js";
import { describeErrorBody, RegistryError, type RequestContext } from "./errors.js";
import { DockerKeychain, type Keychain } from "./keychain.js";
import { ByteReader, openSource, type UploadSource } from "./source.js";
import {
  describeNetworkError,
  type HttpRequest,
  isAbort,
  isRetriableNetworkError,
  Transport,
  type TransportOptions,
} from "./transport.js";
import { DigestVerifier, verified } from "./verify.js";

export type ReferenceLike = ImageReference | string;

export interface RegistryClientOptions extends TransportOptions {
  /** Where credentials come from; defaults to CNB_REGISTRY_AUTH then docker's config (./keychain.ts). */
  readonly keychain?: Keychain;
  /** Blobs larger than this are uploaded in chunks (PATCH... then PUT) unless told otherwise. Default 64 MiB. */
  readonly chunkThreshold?: number;
  /** Size of each PATCH of a chunked upload. Default 16 MiB. */
  readonly chunkSize?: number;
  /** Largest manifest or index accepted. Default 4 MiB (the distribution spec's recommendation). */
  readonly maxManifestBytes?: number;
}

/** The manifest types asked for by default: OCI and Docker v2 manifests and indexes. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
];

export interface ManifestDescription {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

export interface FetchedManifest extends ManifestDescription {
  /** The manifest exactly as the registry stored it (its digest is computed over these bytes). */
  readonly bytes: Buffer;
}

/** A blob to read or write: its digest and, when known, its size (a Descriptor fits). */
export interface BlobRef {
  readonly digest: Digest;
  readonly size?: number;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface GetManifestOptions extends RequestOptions {
  /** Accept header values; defaults to MANIFEST_ACCEPT. */
  readonly accept?: readonly string[];
}

export interface OpenBlobOptions extends RequestOptions {
  /** Called with the number of bytes received so far, as they arrive. */
  readonly onProgress?: (bytes: number) => void;
}

export interface PushBlobOptions extends RequestOptions {
  /** Images or repositories on the same registry that may have the blob: mounted from instead of uploaded. */
  readonly mountFrom?: readonly ReferenceLike[];
  /** "auto" (default) uploads in one PUT up to `chunkThreshold`, in chunks above. */
  readonly upload?: "auto" | "monolithic" | "chunked";
  readonly chunkSize?: number;
  /** Called with the number of bytes sent so far. */
  readonly onProgress?: (bytes: number) => void;
}

export interface PushedBlob {
  readonly digest: Digest;
  readonly size: number;
  /** "exists": the registry had it; "mounted": mounted from `mountedFrom`; "uploaded": sent. */
  readonly how: "exists" | "mounted" | "uploaded";
  /** Bytes actually sent, counting any sent again after a failed session; 0 unless uploaded. */
  readonly uploaded: number;
  readonly mountedFrom?: string;
}

/** Raised inside an upload attempt when a new session may succeed; carries the error to give up with. */
class RetryUpload extends Error {
  constructor(readonly final: RegistryError) {
    super(final.message);
  }
}

export class RegistryClient {
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly chunkThreshold: number;
  private readonly chunkSize: number;
  private readonly maxManifestBytes: number;

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new Transport(options);
    this.auth = new Authenticator(options.keychain ?? new DockerKeychain(), this.transport);
    this.chunkThreshold = options.chunkThreshold ?? 64 * 1024 * 1024;
    this.chunkSize = options.chunkSize ?? 16 * 1024 * 1024;
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
  }

  // ---------------------------------------------------------------- manifests

  /** GETs a manifest or index by tag or digest; one fetched by digest is checked against it. */
  async getManifest(image: ReferenceLike, options: GetManifestOptions = {}): Promise<FetchedManifest> {
    const ref = toReference(image);
    const ctx = this.context(ref, "pull");
    const id = manifestId(ctx, ref);
    const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/manifests/${id}`);
    const accept = (options.accept ?? MANIFEST_ACCEPT).join(", ");
    for (let attempt = 1; ; attempt++) {
      const res = await this.request(ctx, {
        method: "GET",
        url,
        headers: { accept },
        idempotent: true,
        ...signalOf(options),
      });
      if (res.status === 404) {
        await discard(res);
        throw imageNotFound(ctx);
      }
      if (!res.ok) throw await this.failure(ctx, res, `GET manifest ${id}`);
      let bytes: Buffer;
      try {
        bytes = await this.readManifestBody(ctx, res, id);
      } catch (err) {
        if (attempt <= this.transport.retries && isRetriableNetworkError(err)) {
          await this.transport.backoff(attempt);
          continue;
        }
        throw err instanceof RegistryError || isAbort(err)
          ? err
          : this.transport.unreachable(ctx, err, attempt);
      }
      const digest = sha256Digest(bytes);
      const expected = ref.digest ?? sha256Of(res.headers.get("docker-content-digest"));
      if (expected && expected !== digest) {
        throw new RegistryError(
          "CNBP_REGISTRY_DIGEST_MISMATCH",
          `${ctx.image}: manifest ${expected} is corrupt: its content has digest ${digest}`,
          { registry: ctx.registry, image: ctx.image },
        );
      }
      return { bytes, digest, size: bytes.byteLength, mediaType: manifestMediaType(res, bytes) };
    }
  }

  /**
   * HEADs a manifest: its digest, media type and size without its content; undefined when there is none.
   * Falls back to a GET when the registry does not say the digest.
   */
  async headManifest(
    image: ReferenceLike,
    options: GetManifestOptions = {},
  ): Promise<ManifestDescription | undefined> {
    const ref = toReference(image);
    const ctx = this.context(ref, "pull");
    const id = manifestId(ctx, ref);
    const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/manifests/${id}`);
    const res = await this.request(ctx, {
      method: "HEAD",
      url,
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(", ") },
      idempotent: true,
      ...signalOf(options),
    });
    await discard(res);
    if (res.status === 404) return undefined;
    if (!res.ok) throw await this.failure(ctx, res, `HEAD manifest ${id}`);
    const digest =
      sha256Of(res.headers.get("docker-content-digest")) ?? (ref.digest ? ref.digest : undefined);
    const mediaType = contentType(res);
    const size = Number(res.headers.get("content-length"));
    if (!digest || !mediaType || !Number.isSafeInteger(size) || !isManifestType(mediaType)) {
      const { bytes: _bytes, ...description } = await this.getManifest(ref, options);
      return description;
    }
    return { digest, mediaType, size };
  }

  /** PUTs a manifest or index by the reference's tag (else its digest); returns its digest. */
  async putManifest(
    image: ReferenceLike,
    manifest: Uint8Array,
    mediaType: string,
    options: RequestOptions = {},
  ): Promise<Digest> {
    const ref = toReference(image);
    const ctx = this.context(ref, "push");
    const digest = sha256Digest(manifest);
    if (ref.digest && ref.digest !== digest) {
      throw new RegistryError(
        "CNBP_REGISTRY_DIGEST_MISMATCH",
        `${ctx.image}: the manifest to push has digest ${digest}, not the reference's ${ref.digest}`,
        { registry: ctx.registry, image: ctx.image },
      );
    }
    const id = ref.tag ?? digest;
    const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/manifests/${id}`);
    const res = await this.request(ctx, {
      method: "PUT",
      url,
      headers: { "content-type": mediaType },
      body: manifest,
      idempotent: true,
      ...signalOf(options),
    });
    if (res.status !== 201 && res.status !== 200) throw await this.failure(ctx, res, `PUT manifest ${id}`);
    await discard(res);
    const stored = sha256Of(res.headers.get("docker-content-digest"));
    if (stored && stored !== digest) {
      throw new RegistryError(
        "CNBP_REGISTRY_DIGEST_MISMATCH",
        `${ctx.image}: registry ${ctx.registry} stored the pushed manifest ${digest} as ${stored}`,
        { registry: ctx.registry, image: ctx.image },
      );
    }
    return digest;
  }

  // ---------------------------------------------------------------- blobs: pull

  /** Whether the repository has the blob (HEAD). */
  async hasBlob(image: ReferenceLike, digest: Digest, options: RequestOptions = {}): Promise<boolean> {
    const ref = toReference(image);
    return this.blobExists(this.context(ref, "pull"), ref, digest, options);
  }

  /**
   * Opens a blob as a byte stream that is checked as it flows: it errors, instead of ending, when the
   * content does not match the digest (or the size, when given). Redirects to storage are followed; a
   * connection that drops is resumed from where it stopped. Pipe it to a file or iterate it.
   */
  async openBlob(
    image: ReferenceLike,
    blob: Digest | BlobRef,
    options: OpenBlobOptions = {},
  ): Promise<Readable> {
    const ref = toReference(image);
    const ctx = this.context(ref, "pull");
    const { digest, size } = typeof blob === "string" ? { digest: blob, size: undefined } : blob;
    checkDigest(ctx, digest);
    const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/blobs/${digest}`);
    const first = await this.getBlobResponse(ctx, url, digest, 0, options);
    const verifier = new DigestVerifier(digest, size);
    const chunks = this.blobChunks(ctx, url, digest, size, first, options);
    const corrupt = (problem: string) =>
      new RegistryError(
        "CNBP_REGISTRY_DIGEST_MISMATCH",
        `${ctx.image}: blob ${digest} is corrupt: ${problem}`,
        {
          registry: ctx.registry,
          image: ctx.image,
        },
      );
    return Readable.from(verified(chunks, verifier, corrupt), { objectMode: false });
  }

  /** A whole (small) blob in memory, e.g. an image config; verified like openBlob. */
  async getBlob(
    image: ReferenceLike,
    blob: Digest | BlobRef,
    options: OpenBlobOptions = {},
  ): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.openBlob(image, blob, options)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  // ---------------------------------------------------------------- blobs: push

  /**
   * Makes sure the repository has the blob, sending as little as possible: nothing when it has it already
   * (HEAD), a cross-repository mount when one of `mountFrom` has it, else an upload in one PUT or in chunks.
   * `uploaded` in the result counts the bytes actually sent.
   */
  async pushBlob(
    image: ReferenceLike,
    blob: { readonly digest: Digest; readonly size: number },
    source: UploadSource,
    options: PushBlobOptions = {},
  ): Promise<PushedBlob> {
    const ref = toReference(image);
    const ctx = this.context(ref, "push");
    const { digest, size } = blob;
    checkDigest(ctx, digest);
    if (await this.blobExists(ctx, ref, digest, options)) return { digest, size, how: "exists", uploaded: 0 };
    let session: URL | undefined;
    for (const candidate of options.mountFrom ?? []) {
      const from = toReference(candidate);
      if (from.registry !== ref.registry || from.repository === ref.repository) continue;
      const scopes = [repositoryScope(ref.repository, "push"), repositoryScope(from.repository, "pull")];
      const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/blobs/uploads/`);
      url.searchParams.set("mount", digest);
      url.searchParams.set("from", from.repository);
      const res = await this.request(
        ctx,
        { method: "POST", url, idempotent: true, ...signalOf(options) },
        scopes,
      );
      if (res.status === 201) {
        await discard(res);
        return { digest, size, how: "mounted", uploaded: 0, mountedFrom: from.repository };
      }
      if (res.status === 202) {
        // not mounted, but an upload session was opened: use it
        await discard(res);
        session = this.location(ctx, res, url);
        break;
      }
      throw await this.failure(ctx, res, `POST blob upload mounting ${digest} from ${from.repository}`);
    }
    return this.upload(ctx, ref, { digest, size }, source, options, session);
  }

  // ---------------------------------------------------------------- access checks

  /** Whether the image's manifest can be read (it exists and the credentials allow pulling it). */
  async checkReadAccess(image: ReferenceLike, options: RequestOptions = {}): Promise<boolean> {
    try {
      return (await this.headManifest(image, options)) !== undefined;
    } catch (err) {
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_UNAUTHORIZED") return false;
      throw err;
    }
  }

  /** Whether the credentials allow pushing to the image's repository (opens and cancels an upload). */
  async checkWriteAccess(image: ReferenceLike, options: RequestOptions = {}): Promise<boolean> {
    const ref = toReference(image);
    const ctx = this.context(ref, "push");
    let session: URL;
    try {
      session = await this.startUpload(ctx, ref, options);
    } catch (err) {
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_UNAUTHORIZED") return false;
      throw err;
    }
    const res = await this.request(ctx, { method: "DELETE", url: session, idempotent: false }).catch(
      () => undefined,
    );
    if (res) await discard(res);
    return true;
  }

  // ---------------------------------------------------------------- internals

  private context(ref: ImageReference, access: "pull" | "push"): RequestContext {
    return {
      registry: ref.registry,
      host: registryApiHost(ref.registry),
      repository: ref.repository,
      image: formatReference(ref),
      access,
    };
  }

  /**
   * Sends a request with what authentication is known, learning from a 401 challenge and sending again
   * once when that may help (only bodies that can be replayed are sent again).
   */
  private async request(
    ctx: RequestContext,
    req: HttpRequest,
    scopes: readonly string[] = [repositoryScope(ctx.repository, ctx.access)],
  ): Promise<Response> {
    const replayable =
      req.body === undefined || typeof req.body === "string" || req.body instanceof Uint8Array;
    for (let round = 1; ; round++) {
      const authorization = await this.auth.header(ctx, scopes);
      const res = await this.transport.send(
        { ...req, headers: { ...req.headers, ...(authorization ? { authorization } : {}) } },
        ctx,
      );
      if (res.status !== 401) return res;
      const retry = await this.auth.onUnauthorized(ctx, scopes, res, authorization);
      if (!retry || !replayable || round > 1) return res;
      await discard(res);
    }
  }

  /** The error for an answer that is not what was expected. */
  private async failure(ctx: RequestContext, res: Response, what: string): Promise<RegistryError> {
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      return this.auth.refusal(ctx, res.status);
    }
    const body = await res.text().catch(() => "");
    return new RegistryError(
      "CNBP_REGISTRY_RESPONSE",
      `${ctx.image}: registry ${ctx.registry} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""} to ${what}${body ? `: ${describeErrorBody(body)}` : ""}`,
      { registry: ctx.registry, image: ctx.image, status: res.status },
    );
  }

  private async readManifestBody(ctx: RequestContext, res: Response, id: string): Promise<Buffer> {
    const tooLarge = () =>
      new RegistryError(
        "CNBP_REGISTRY_RESPONSE",
        `${ctx.image}: manifest ${id} is larger than ${this.maxManifestBytes} bytes`,
        { registry: ctx.registry, image: ctx.image },
      );
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (declared > this.maxManifestBytes) {
      await discard(res);
      throw tooLarge();
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > this.maxManifestBytes) throw tooLarge();
        parts.push(chunk);
      }
    }
    return Buffer.concat(parts);
  }

  private async blobExists(
    ctx: RequestContext,
    ref: ImageReference,
    digest: Digest,
    options: RequestOptions,
  ): Promise<boolean> {
    const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/blobs/${digest}`);
    const res = await this.request(ctx, { method: "HEAD", url, idempotent: true, ...signalOf(options) });
    await discard(res);
    if (res.ok) return true;
    if (res.status === 404) return false;
    throw await this.failure(ctx, res, `HEAD blob ${digest}`);
  }

  /** GETs a blob from byte `from` on (a Range request when resuming). */
  private async getBlobResponse(
    ctx: RequestContext,
    url: URL,
    digest: Digest,
    from: number,
    options: RequestOptions,
  ): Promise<Response> {
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    if (from > 0) headers.range = `bytes=${from}-`;
    const res = await this.request(ctx, {
      method: "GET",
      url,
      headers,
      idempotent: true,
      ...signalOf(options),
    });
    if (res.status === 404) {
      await discard(res);
      throw new RegistryError("CNBP_REGISTRY_BLOB_NOT_FOUND", `${ctx.image}: blob ${digest} not found`, {
        registry: ctx.registry,
        image: ctx.image,
        status: 404,
      });
    }
    if (res.status !== 200 && res.status !== 206) throw await this.failure(ctx, res, `GET blob ${digest}`);
    return res;
  }

  /** A blob's bytes; when the connection drops, asks again for the rest (or skips what was already had). */
  private async *blobChunks(
    ctx: RequestContext,
    url: URL,
    digest: Digest,
    size: number | undefined,
    first: Response,
    options: OpenBlobOptions,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    let res = first;
    let received = 0;
    let failures = 0;
    let failedAt = -1;
    for (;;) {
      try {
        let skip = received > 0 ? alreadyHad(res, received) : 0;
        if (skip === undefined) {
          throw new RegistryError(
            "CNBP_REGISTRY_RESPONSE",
            `${ctx.image}: registry ${ctx.registry} resumed blob ${digest} past the ${received} bytes received (Content-Range: ${res.headers.get("content-range")})`,
            { registry: ctx.registry, image: ctx.image, status: res.status },
          );
        }
        if (res.body) {
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
            let piece = chunk;
            if (skip > 0) {
              if (piece.byteLength <= skip) {
                skip -= piece.byteLength;
                continue;
              }
              piece = piece.subarray(skip);
              skip = 0;
            }
            received += piece.byteLength;
            yield piece;
            options.onProgress?.(received);
          }
        }
        return;
      } catch (err) {
        if (isAbort(err) || !isRetriableNetworkError(err)) throw err;
        if (received > failedAt) failures = 0;
        failedAt = received;
        failures++;
        if (failures > this.transport.retries) {
          throw new RegistryError(
            "CNBP_REGISTRY_UNREACHABLE",
            `${ctx.image}: connection to registry ${ctx.registry} lost while downloading blob ${digest}, after ${received}${size !== undefined ? ` of ${size}` : ""} bytes (tried ${failures} times): ${describeNetworkError(err)}`,
            { registry: ctx.registry, image: ctx.image, cause: err },
          );
        }
        await this.transport.backoff(failures);
        res = await this.getBlobResponse(ctx, url, digest, received, options);
      }
    }
  }

  private async startUpload(ctx: RequestContext, ref: ImageReference, options: RequestOptions): Promise<URL> {
    const url = await this.transport.url(ctx.host, `/v2/${ref.repository}/blobs/uploads/`);
    const res = await this.request(ctx, { method: "POST", url, idempotent: true, ...signalOf(options) });
    if (res.status !== 202) throw await this.failure(ctx, res, "POST blob upload");
    await discard(res);
    return this.location(ctx, res, url);
  }

  private location(ctx: RequestContext, res: Response, base: URL): URL {
    const location = res.headers.get("location");
    if (!location) {
      throw new RegistryError(
        "CNBP_REGISTRY_RESPONSE",
        `${ctx.image}: registry ${ctx.registry} opened a blob upload without saying where (no Location header)`,
        { registry: ctx.registry, image: ctx.image, status: res.status },
      );
    }
    const url = new URL(location, base);
    this.transport.checkUrl(url, ctx);
    return url;
  }

  private async upload(
    ctx: RequestContext,
    ref: ImageReference,
    blob: { readonly digest: Digest; readonly size: number },
    source: UploadSource,
    options: PushBlobOptions,
    opened: URL | undefined,
  ): Promise<PushedBlob> {
    const chunked =
      options.upload === "chunked" || (options.upload !== "monolithic" && blob.size > this.chunkThreshold);
    const chunkSize = Math.max(1, options.chunkSize ?? this.chunkSize);
    const sent = { bytes: 0 };
    let session = opened;
    for (let attempt = 1; ; attempt++) {
      const reader = new ByteReader(await openSource(source));
      const verifier = new DigestVerifier(blob.digest, blob.size);
      const problem: { text?: string } = {};
      try {
        session ??= await this.startUpload(ctx, ref, options);
        const body = (length: number) =>
          this.uploadBody(reader.take(length), length, verifier, problem, sent, options);
        if (chunked) {
          let offset = 0;
          while (offset < blob.size) {
            const length = Math.min(chunkSize, blob.size - offset);
            const res = await this.sendUpload(ctx, problem, blob.digest, {
              method: "PATCH",
              url: session,
              headers: {
                "content-type": "application/octet-stream",
                "content-length": String(length),
                "content-range": `${offset}-${offset + length - 1}`,
              },
              body: body(length),
              idempotent: false,
              ...signalOf(options),
            });
            if (res.status !== 202) throw await this.uploadFailure(ctx, res, `PATCH blob ${blob.digest}`);
            await discard(res);
            session = this.location(ctx, res, session);
            offset += length;
          }
          const done = verifier.finish();
          if (done) throw this.badSource(ctx, blob.digest, done);
          const url = new URL(session);
          url.searchParams.set("digest", blob.digest);
          const res = await this.sendUpload(ctx, problem, blob.digest, {
            method: "PUT",
            url,
            headers: { "content-length": "0" },
            idempotent: false,
            ...signalOf(options),
          });
          if (res.status !== 201) throw await this.uploadFailure(ctx, res, `PUT blob ${blob.digest}`);
          await discard(res);
        } else {
          const url = new URL(session);
          url.searchParams.set("digest", blob.digest);
          const res = await this.sendUpload(ctx, problem, blob.digest, {
            method: "PUT",
            url,
            headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
            body: body(blob.size),
            idempotent: false,
            ...signalOf(options),
          });
          if (res.status !== 201) throw await this.uploadFailure(ctx, res, `PUT blob ${blob.digest}`);
          await discard(res);
        }
        return { digest: blob.digest, size: blob.size, how: "uploaded", uploaded: sent.bytes };
      } catch (err) {
        session = undefined;
        if (!(err instanceof RetryUpload)) throw err;
        if (attempt > this.transport.retries) throw withAttempts(err.final, attempt);
        await this.transport.backoff(attempt);
      } finally {
        await reader.close().catch(() => {});
      }
    }
  }

  /** Sends one request of an upload session; a broken connection is worth a new session. */
  private async sendUpload(
    ctx: RequestContext,
    problem: { text?: string },
    digest: Digest,
    req: HttpRequest,
  ): Promise<Response> {
    try {
      return await this.request(ctx, req);
    } catch (err) {
      if (problem.text) throw this.badSource(ctx, digest, problem.text);
      if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_UNREACHABLE") {
        if (isRetriableNetworkError(err.cause)) throw new RetryUpload(err);
      }
      throw err;
    }
  }

  /** The error for a failed upload request; 5xx, 429 and an expired token are worth a new session. */
  private async uploadFailure(ctx: RequestContext, res: Response, what: string): Promise<Error> {
    const error = await this.failure(ctx, res, what);
    return res.status >= 500 || res.status === 429 || res.status === 401 ? new RetryUpload(error) : error;
  }

  private badSource(ctx: RequestContext, digest: Digest, problem: string): RegistryError {
    return new RegistryError(
      "CNBP_REGISTRY_DIGEST_MISMATCH",
      `${ctx.image}: blob ${digest} given to push is corrupt: ${problem}`,
      { registry: ctx.registry, image: ctx.image },
    );
  }

  /** An upload request body: `length` bytes of the source, hashed and counted as they are handed over. */
  private async *uploadBody(
    chunks: AsyncIterable<Uint8Array>,
    length: number,
    verifier: DigestVerifier,
    problem: { text?: string },
    sent: { bytes: number },
    options: PushBlobOptions,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    let given = 0;
    for await (const chunk of chunks) {
      const bad = verifier.update(chunk);
      // the last chunk is held back when the content is wrong, so the registry never gets all of it
      const last = verifier.expectedSize !== undefined && verifier.bytes === verifier.expectedSize;
      problem.text = bad ?? (last ? verifier.finish() : undefined);
      if (problem.text) throw new Error(problem.text);
      given += chunk.byteLength;
      sent.bytes += chunk.byteLength;
      yield chunk;
      options.onProgress?.(sent.bytes);
    }
    if (given < length) {
      problem.text = `the source ended after ${verifier.bytes} bytes, its descriptor states ${verifier.expectedSize}`;
      throw new Error(problem.text);
    }
  }
}

function imageNotFound(ctx: RequestContext): RegistryError {
  return new RegistryError("CNBP_REGISTRY_IMAGE_NOT_FOUND", `${ctx.image}: image not found`, {
    registry: ctx.registry,
    image: ctx.image,
    status: 404,
  });
}

function toReference(image: ReferenceLike): ImageReference {
  return typeof image === "string" ? parseReference(image) : image;
}

function signalOf(options: RequestOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

async function discard(res: Response): Promise<void> {
  if (res.body && !res.bodyUsed) await res.body.cancel().catch(() => {});
}

function checkDigest(ctx: RequestContext, digest: string): asserts digest is Digest {
  if (!Digest.safeParse(digest).success) {
    throw new RegistryError(
      "CNBP_REGISTRY_UNSUPPORTED_DIGEST",
      `${ctx.image}: digest "${digest}" is not supported (only sha256:<64 hex digits>)`,
      { registry: ctx.registry, image: ctx.image },
    );
  }
}

function manifestId(ctx: RequestContext, ref: ImageReference): string {
  if (ref.digest) {
    checkDigest(ctx, ref.digest);
    return ref.digest;
  }
  return ref.tag ?? "latest";
}

function sha256Of(header: string | null): Digest | undefined {
  const value = header?.trim();
  return value && Digest.safeParse(value).success ? value : undefined;
}

function contentType(res: Response): string | undefined {
  const value = res.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  return value || undefined;
}

function isManifestType(type: string): boolean {
  return MANIFEST_TYPES.includes(type) || INDEX_TYPES.includes(type);
}

/** The media type of a fetched manifest: the Content-Type, else its own `mediaType`, else from its shape. */
function manifestMediaType(res: Response, bytes: Buffer): string {
  const type = contentType(res);
  if (type && isManifestType(type)) return type;
  try {
    const json = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown; manifests?: unknown };
    if (typeof json.mediaType === "string" && json.mediaType) return json.mediaType;
    if (Array.isArray(json.manifests)) return MediaType.ociIndex;
    return MediaType.ociManifest;
  } catch {
    return type ?? MediaType.ociManifest;
  }
}

/** How many bytes at the start of a resumed answer were already received (all of them if Range was ignored). */
function alreadyHad(res: Response, received: number): number | undefined {
  if (res.status !== 206) return received;
  const m = /^bytes\s+(\d+)-/.exec(res.headers.get("content-range") ?? "");
  const start = m ? Number(m[1]) : 0;
  return start > received ? undefined : received - start;
}

function withAttempts(error: RegistryError, attempts: number): RegistryError {
  return new RegistryError(error.code, `${error.message} (upload tried ${attempts} times)`, {
    registry: error.registry,
    ...(error.image !== undefined ? { image: error.image } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    hints: error.hints,
    cause: error.cause ?? error,
  });
}
