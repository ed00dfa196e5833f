/**
 * A streaming layer reader: iterates the entries of a tar (gzip detected by its magic bytes) with their
 * headers and contents, for callers that only inspect a layer (which layer holds /cnb/lifecycle?) and for the
 * extractor. Nothing is buffered beyond what tar-stream and zlib hold for the current chunk.
 */
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { type Extract, type Header, extract as tarExtract } from "tar-stream";
import { CnbpError } from "../../errors.js";
import { errorMessage, LAYER_READ } from "./common.js";

export type TarEntryType =
  | "file"
  | "link"
  | "symlink"
  | "directory"
  | "character-device"
  | "block-device"
  | "fifo"
  | "contiguous-file"
  | "unknown";

/** One entry of a tar: its header (PAX records applied) and its content, read once, in order. */
export interface TarEntry {
  /** The name as stored (PAX `path` applied), e.g. `/layers/bp/node/` or `./etc/passwd`. */
  readonly name: string;
  /** The name normalised: leading `/`, no trailing `/`, no empty or `.` parts (`..` parts are kept). */
  readonly path: string;
  readonly type: TarEntryType;
  /** Permission bits (and setuid/setgid/sticky). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtime: Date;
  /** Content size (0 but for files). */
  readonly size: number;
  /** Target of a symlink or hard link, as stored. */
  readonly linkname: string | null;
  readonly devmajor: number;
  readonly devminor: number;
  /** The entry's PAX records, if it had any. */
  readonly pax: Readonly<Record<string, string>> | null;
  /**
   * The content. Read it before asking for the next entry (what is left unread is skipped then); stopping
   * early is fine.
   */
  readonly content: AsyncIterable<Buffer>;
  /** The whole content in memory (for small files). */
  bytes(): Promise<Buffer>;
}

export type Compression = "auto" | "gzip" | "none";

export interface ReadLayerOptions {
  /** Names the layer in error messages; default the file path or `tar`. */
  readonly label?: string;
  /** `auto` (default) gunzips when the stream starts with the gzip magic bytes. */
  readonly compression?: Compression;
}

/** Iterates the entries of a tar given as a file path or a byte stream (a Node Readable is one). */
export async function* readLayer(
  source: string | AsyncIterable<Uint8Array>,
  options: ReadLayerOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const label = options.label ?? (typeof source === "string" ? source : "tar");
  const fail = (err: unknown) =>
    err instanceof CnbpError
      ? err
      : new CnbpError(LAYER_READ, `layer ${label}: cannot read the tar: ${errorMessage(err)}`, {
          cause: err,
        });
  const input: AsyncIterable<Uint8Array> =
    typeof source === "string" ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  const ex = tarExtract();
  const entries = ex[Symbol.asyncIterator]();
  const feeding = feed(decompress(input, options.compression ?? "auto"), ex);
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<Awaited<ReturnType<typeof entries.next>>["value"]>;
      try {
        next = await entries.next();
      } catch (err) {
        throw fail(err);
      }
      if (next.done) break;
      const src = next.value;
      const it = (src as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const pull = async (): Promise<IteratorResult<Buffer>> => {
        try {
          return await it.next();
        } catch (err) {
          throw fail(err);
        }
      };
      // never hand out the stream's own return(): it destroys the entry and with it the whole extract
      const content: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => ({
          next: pull,
          return: async () => ({ done: true, value: undefined }),
        }),
      };
      yield toEntry(src.header, content);
      while (!(await pull()).done) {
        // skip what the caller did not read
      }
    }
    finished = true;
  } finally {
    if (!finished) await entries.return?.().catch(() => undefined);
    await feeding;
  }
}

function toEntry(h: Header, content: AsyncIterable<Buffer>): TarEntry {
  const pax = (h.pax ?? null) as Record<string, string> | null;
  const num = (key: string, fallback: number) => {
    const v = pax?.[key];
    return v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : fallback;
  };
  const type = (h.type as string | null) ?? "unknown";
  return {
    name: h.name,
    path: normalisePath(h.name),
    type: (KNOWN_TYPES.has(type) ? type : "unknown") as TarEntryType,
    mode: h.mode & 0o7777,
    uid: Math.floor(num("uid", h.uid)),
    gid: Math.floor(num("gid", h.gid)),
    uname: pax?.uname ?? h.uname,
    gname: pax?.gname ?? h.gname,
    mtime: pax?.mtime !== undefined ? new Date(num("mtime", h.mtime.getTime() / 1000) * 1000) : h.mtime,
    size: h.size,
    linkname: h.linkname ?? null,
    devmajor: h.devmajor,
    devminor: h.devminor,
    pax,
    content,
    async bytes() {
      const chunks: Buffer[] = [];
      for await (const chunk of content) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
  };
}

const KNOWN_TYPES = new Set([
  "file",
  "link",
  "symlink",
  "directory",
  "character-device",
  "block-device",
  "fifo",
  "contiguous-file",
]);

/** `./a//b/` -> `/a/b`; `/` and `./` -> `/`. */
export function normalisePath(name: string): string {
  return `/${name
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/")}`;
}

/** Writes the (decompressed) bytes into the extract with back-pressure; a failure destroys the extract. */
async function feed(chunks: AsyncIterable<Buffer>, ex: Extract): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (ex.destroyed || ex.destroying) return;
      if (!ex.write(chunk)) await drained(ex);
    }
    if (!ex.destroyed && !ex.destroying) ex.end(undefined);
  } catch (err) {
    ex.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

function drained(ex: Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      ex.off("drain", done);
      ex.off("close", done);
      resolve();
    };
    ex.on("drain", done);
    ex.on("close", done);
  });
}

/** The input, gunzipped when asked or (auto) when it starts with the gzip magic bytes 1f 8b. */
async function* decompress(input: AsyncIterable<Uint8Array>, mode: Compression): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  let done = false;
  try {
    let head = Buffer.alloc(0);
    while (head.length < 2) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      head = Buffer.concat([head, asBuffer(r.value)]);
    }
    const rest = async function* () {
      if (head.length) yield head;
      while (!done) {
        const r = await it.next();
        if (r.done) done = true;
        else yield asBuffer(r.value);
      }
    };
    const gzip = mode === "gzip" || (mode === "auto" && head[0] === 0x1f && head[1] === 0x8b);
    if (!gzip) {
      yield* rest();
      return;
    }
    const gunzip = createGunzip({ chunkSize: 1 << 16 });
    const piping = pipeline(rest, gunzip);
    piping.catch(() => undefined); // its error also fails the gunzip stream read below
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
      await piping;
    } finally {
      gunzip.destroy();
    }
  } finally {
    if (!done) await it.return?.();
  }
}

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
