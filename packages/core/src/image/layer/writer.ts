/**
 * The layer writer: normalised, reproducible layer tars (platform.md 4.6, distribution.md 1) made in one
 * streaming pass that hashes the tar (diffID), gzips it, hashes and counts the gzip (digest, size) and writes
 * it to a file or a Writable. Nothing holds the layer in memory: at most a few MiB are in flight.
 *
 * Entries carry the fixed mtime, empty uname/gname, numeric owners, permission bits (and setuid/setgid/sticky)
 * only, absolute container names with a leading `/`; directories are walked in byte order of the names (Go's
 * filepath.Walk order); hard links between files of the layer become tar hard links; symlinks stay symlinks;
 * sockets, FIFOs and devices are skipped.
 *
 * tar-stream writes the headers. Three of its habits are worked around here: names over 100 bytes would lose
 * their leading `/` in the ustar prefix split and uid/gid over 0o777777 would be clamped, so such entries get a
 * PAX header (path/linkpath, uid/gid records); mtimes past 2038 would overflow, so they are refused.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, readdir, readlink, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { type Header, type Pack, pack as tarPack } from "tar-stream";
import { CnbpError } from "../../errors.js";
import { type Digest, MediaType } from "../oci.js";
import {
  ancestors,
  CNB_EPOCH,
  checkContainerPath,
  childPath,
  compareNames,
  errorMessage,
  LAYER_INVALID,
  LAYER_WRITE,
  mtimeSeconds,
  type Owner,
} from "./common.js";

/** An explicit directory entry, e.g. `/cnb` of the launcher layer. Defaults: root-owned, 0755. */
export interface DirectoryEntry {
  readonly kind: "directory";
  readonly path: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/** An explicit symlink, e.g. `/cnb/process/web -> /cnb/lifecycle/launcher`. Defaults: root-owned, 0777. */
export interface SymlinkEntry {
  readonly kind: "symlink";
  readonly path: string;
  readonly target: string;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * An explicit file: `content` from memory (small files) or `source`, a host file streamed into the tar (e.g.
 * the launcher binary). Defaults: root-owned; mode 0644 for content, the source's permission bits for a source.
 */
export type FileEntry = {
  readonly kind: "file";
  readonly path: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
} & ({ readonly content: string | Uint8Array } | { readonly source: string });

/**
 * How the ancestors of a part's container path (`/layers`, `/layers/<bp>` for `/layers/<bp>/<layer>`) are
 * written before it: `"host"` (default) with the owner and mode of the matching host directories (the host
 * dir's own ancestors, level by level), `"none"` not at all, or all with the one given owner and mode.
 * An ancestor already in the layer (an explicit entry or an earlier part) is not written twice.
 */
export type Parents = "host" | "none" | { readonly uid: number; readonly gid: number; readonly mode: number };

/**
 * Modes of a part's entries: `"keep"` (default) the host's permission bits; `"module"` pack's buildpack
 * layer rule: 0755 for directories, for `bin/build`, `bin/detect`, `bin/generate` and any file with an exec
 * bit, else 0644.
 */
export type Modes = "keep" | "module";

interface TreeOptions {
  /** Owner of the contents (the root dir included); default the host's numeric owners. */
  readonly owner?: Owner;
  readonly parents?: Parents;
  readonly modes?: Modes;
}

/** A host directory written as a container path: the dir itself, then everything below it, walked in order. */
export interface DirPart extends TreeOptions {
  readonly kind: "dir";
  readonly hostDir: string;
  readonly containerPath: string;
}

/**
 * Listed paths (relative to `hostDir`, POSIX, normalised; `.` is the dir itself) written as
 * `<containerPath>/<path>`, sorted by name, each one entry (a listed directory is not walked): slice layers.
 */
export interface FilesPart extends TreeOptions {
  readonly kind: "files";
  readonly hostDir: string;
  readonly containerPath: string;
  readonly files: readonly string[];
}

/** Parts of a layer, written in the order given. */
export type LayerPart = DirectoryEntry | SymlinkEntry | FileEntry | DirPart | FilesPart;

export interface LayerWriteOptions {
  /** Names the layer in error messages (e.g. `example/node:node`); default the first part's container path. */
  readonly label?: string;
  /** mtime of every entry; default the CNB epoch (use `layerMtime(SOURCE_DATE_EPOCH)`). */
  readonly mtime?: Date;
  /** gzip the tar (default true); false writes the plain tar (digest = diffID). */
  readonly gzip?: boolean;
  /** gzip level, fixed so that digests are reproducible; default 6 (zlib's default). */
  readonly gzipLevel?: number;
}

export interface LayerResult {
  /** sha256 of the uncompressed tar. */
  readonly diffId: Digest;
  /** sha256 of the bytes written (the gzip, or the tar when not gzipped). */
  readonly digest: Digest;
  /** Number of bytes written. */
  readonly size: number;
  /** Size of the uncompressed tar. */
  readonly uncompressedSize: number;
  /** OCI layer media type of what was written (`...tar+gzip` or `...tar`). */
  readonly mediaType: string;
}

/** The one-directory layer: `hostDir` as `containerPath` (parents from the host unless told otherwise). */
export function writeDirLayer(
  hostDir: string,
  containerPath: string,
  to: string | Writable,
  options: LayerWriteOptions & TreeOptions = {},
): Promise<LayerResult> {
  const { owner, parents, modes, ...write } = options;
  return writeLayer([{ kind: "dir", hostDir, containerPath, owner, parents, modes }], to, write);
}

/** A layer of listed files of `hostDir` (an app slice), as `<containerPath>/<file>`, sorted. */
export function writeFilesLayer(
  hostDir: string,
  containerPath: string,
  files: readonly string[],
  to: string | Writable,
  options: LayerWriteOptions & TreeOptions = {},
): Promise<LayerResult> {
  const { owner, parents, modes, ...write } = options;
  return writeLayer([{ kind: "files", hostDir, containerPath, files, owner, parents, modes }], to, write);
}

/**
 * Writes a layer tar of the parts to `to` (a file path, created or truncated and removed again on failure; or
 * a Writable, which is ended) and returns its diffID, digest, size and media type.
 */
export async function writeLayer(
  parts: readonly LayerPart[],
  to: string | Writable,
  options: LayerWriteOptions = {},
): Promise<LayerResult> {
  const first = parts.find((p) => p.kind === "dir" || p.kind === "files") ?? parts[0];
  const label =
    options.label ?? (first ? ("containerPath" in first ? first.containerPath : first.path) : "layer");
  const mtime = new Date(mtimeSeconds(options.mtime ?? CNB_EPOCH, label) * 1000);
  const gzip = options.gzip ?? true;
  const level = options.gzipLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new CnbpError(LAYER_INVALID, `layer ${label}: gzip level ${level} is not 0..9`);
  }
  // validate everything that can be checked before anything is written
  for (const part of parts) checkPart(part, label);

  const tar = tarPack();
  const flow = new Flow();
  const writer = new EntryWriter(tar, flow, mtime, label);
  const tarHash = createHash("sha256");
  const outHash = createHash("sha256");
  let tarSize = 0;
  let outSize = 0;

  const dest = typeof to === "string" ? createWriteStream(to, { mode: 0o644 }) : to;
  const tarStage = async function* () {
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      tarHash.update(chunk);
      tarSize += chunk.length;
      flow.take(chunk.length);
      yield chunk;
    }
  };
  const outStage = async function* (source: AsyncIterable<Buffer>) {
    for await (let chunk of source) {
      // the gzip header's OS byte (offset 9) depends on the platform zlib was built for: write 255
      // ("unknown", as Go does) so that the digest does not depend on it
      if (gzip && outSize <= 9 && outSize + chunk.length > 9) {
        chunk = Buffer.from(chunk);
        chunk[9 - outSize] = 255;
      }
      outHash.update(chunk);
      outSize += chunk.length;
      yield chunk;
    }
  };
  const piped = (
    gzip ? pipeline(tarStage, createGzip({ level }), outStage, dest) : pipeline(tarStage, outStage, dest)
  ).catch((err: unknown) => {
    flow.fail(err);
    throw err;
  });
  const produced = (async () => {
    for (const part of parts) await writer.part(part);
    tar.finalize();
  })().catch((err: unknown) => {
    tar.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });

  const [p, w] = await Promise.allSettled([produced, piped]);
  if (p.status === "rejected" || w.status === "rejected") {
    if (typeof to === "string") await rm(to, { force: true });
    const err =
      p.status === "rejected" && p.reason instanceof CnbpError ? p.reason : (failure(w) ?? failure(p));
    if (err instanceof CnbpError) throw err;
    throw new CnbpError(LAYER_WRITE, `layer ${label}: writing the tar failed: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const diffId: Digest = `sha256:${tarHash.digest("hex")}`;
  return {
    diffId,
    digest: `sha256:${outHash.digest("hex")}`,
    size: outSize,
    uncompressedSize: tarSize,
    mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer,
  };
}

function failure(r: PromiseSettledResult<unknown>): unknown {
  return r.status === "rejected" ? r.reason : undefined;
}

function checkPart(part: LayerPart, label: string): void {
  const checkOwner = (uid: number | undefined, gid: number | undefined, what: string) => {
    for (const id of [uid, gid]) {
      if (id !== undefined && !(Number.isSafeInteger(id) && id >= 0)) {
        throw new CnbpError(LAYER_INVALID, `layer ${label}: ${what}: owner id ${id} is not a number >= 0`);
      }
    }
  };
  const checkMode = (mode: number | undefined, what: string) => {
    if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777)) {
      throw new CnbpError(LAYER_INVALID, `layer ${label}: ${what}: mode ${mode} is not 0..0o7777`);
    }
  };
  if (part.kind === "dir" || part.kind === "files") {
    const p = checkContainerPath(part.containerPath, "container path", label);
    checkOwner(part.owner?.uid, part.owner?.gid, p);
    if (typeof part.parents === "object") {
      checkOwner(part.parents.uid, part.parents.gid, `parents of ${p}`);
      checkMode(part.parents.mode, `parents of ${p}`);
    }
    if (part.kind === "files") {
      for (const f of part.files) {
        const ok = f === "." || f.split("/").every((s) => s !== "" && s !== "." && s !== "..");
        if (!ok || f.includes("\0")) {
          throw new CnbpError(
            LAYER_INVALID,
            `layer ${label}: file ${JSON.stringify(f)} of ${p} is not a normalised relative path`,
          );
        }
      }
    }
    return;
  }
  const p = checkContainerPath(part.path, `${part.kind} entry`, label);
  if (p === "/") throw new CnbpError(LAYER_INVALID, `layer ${label}: an entry cannot be "/"`);
  checkOwner(part.uid, part.gid, p);
  if (part.kind !== "symlink") checkMode(part.mode, p);
  if (part.kind === "symlink" && (part.target === "" || part.target.includes("\0"))) {
    throw new CnbpError(LAYER_INVALID, `layer ${label}: symlink ${p} has no target`);
  }
}

/** Bytes the tar may run ahead of its consumer before the walk waits. */
const HIGH_WATER = 4 * 1024 * 1024;

/**
 * Back-pressure between the walk and the pipeline. tar-stream pushes headers without waiting, so the writer
 * counts what it has handed over and what the pipeline has taken, and waits while too much is in between.
 */
class Flow {
  private produced = 0;
  private consumed = 0;
  private failed: { err: unknown } | undefined;
  private waiters: (() => void)[] = [];

  add(n: number): void {
    this.produced += n;
  }

  take(n: number): void {
    this.consumed += n;
    if (this.produced - this.consumed <= HIGH_WATER) this.wake();
  }

  fail(err: unknown): void {
    this.failed = { err };
    this.wake();
  }

  async room(): Promise<void> {
    while (!this.failed && this.produced - this.consumed > HIGH_WATER) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failed) throw this.failed.err;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

interface EntryHeader {
  readonly name: string;
  readonly type: "file" | "directory" | "symlink" | "link";
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size?: number;
  readonly linkname?: string;
}

type Stats = Awaited<ReturnType<typeof lstatBig>>;
function lstatBig(p: string) {
  return lstat(p, { bigint: true });
}

const MAX_USTAR_ID = 0o777777;
const BIN_SCRIPTS = new Set(["bin/build", "bin/detect", "bin/generate"]);

class EntryWriter {
  /** Names written so far, with whether they are directories. */
  private readonly names = new Map<string, boolean>();
  /** `dev:ino` of multiply linked files -> the name they were first written as. */
  private readonly inodes = new Map<string, string>();

  constructor(
    private readonly tar: Pack,
    private readonly flow: Flow,
    private readonly mtime: Date,
    private readonly label: string,
  ) {}

  async part(part: LayerPart): Promise<void> {
    switch (part.kind) {
      case "directory":
        return this.add({
          name: part.path,
          type: "directory",
          mode: part.mode ?? 0o755,
          uid: part.uid ?? 0,
          gid: part.gid ?? 0,
        });
      case "symlink":
        return this.add({
          name: part.path,
          type: "symlink",
          mode: 0o777,
          uid: part.uid ?? 0,
          gid: part.gid ?? 0,
          linkname: part.target,
        });
      case "file": {
        const base = { name: part.path, type: "file" as const, uid: part.uid ?? 0, gid: part.gid ?? 0 };
        if ("content" in part) {
          const body = Buffer.from(part.content);
          return this.add({ ...base, mode: part.mode ?? 0o644, size: body.length }, body);
        }
        const st = await this.io(stat(part.source, { bigint: true }), "cannot read", part.source);
        if (!st.isFile()) {
          throw new CnbpError(LAYER_INVALID, `layer ${this.label}: ${part.source} is not a regular file`);
        }
        const size = Number(st.size);
        return this.add(
          { ...base, mode: part.mode ?? Number(st.mode) & 0o7777, size },
          this.content(part.source, size),
        );
      }
      case "dir":
      case "files":
        return this.tree(part);
    }
  }

  private async tree(part: DirPart | FilesPart): Promise<void> {
    const root = path.resolve(part.hostDir);
    const rootStat = await this.io(lstatBig(root), "cannot read", root);
    if (!rootStat.isDirectory()) {
      throw new CnbpError(LAYER_INVALID, `layer ${this.label}: ${root} is not a directory`);
    }
    await this.parents(part, root);
    if (part.kind === "dir") {
      await this.walk(part, root, part.containerPath, "", rootStat);
      return;
    }
    const files = [...new Set(part.files)]
      .map((rel) => ({ rel, name: rel === "." ? part.containerPath : childPath(part.containerPath, rel) }))
      .sort((a, b) => compareNames(a.name, b.name));
    for (const { rel, name } of files) {
      const host = rel === "." ? root : path.join(root, ...rel.split("/"));
      const st = rel === "." ? rootStat : await this.io(lstatBig(host), "cannot read", host);
      await this.host(part, host, name, rel === "." ? "" : rel, st);
    }
  }

  private async parents(part: DirPart | FilesPart, root: string): Promise<void> {
    const parents = part.parents ?? "host";
    if (parents === "none") return;
    const list = ancestors(part.containerPath);
    for (const [i, name] of list.entries()) {
      if (this.names.get(name) === true) continue;
      if (parents !== "host") {
        await this.add({ name, type: "directory", ...parents });
        continue;
      }
      const levels = list.length - i; // how many levels above the root
      if (levels >= root.split(path.sep).filter(Boolean).length) {
        throw new CnbpError(
          LAYER_INVALID,
          `layer ${this.label}: ${root} has no host directory for the parent ${name} of ${part.containerPath}`,
          { hints: ['pass parents: "none" or an explicit owner and mode for the parents'] },
        );
      }
      let host = root;
      for (let l = 0; l < levels; l++) host = path.dirname(host);
      const st = await this.io(stat(host, { bigint: true }), "cannot read", host);
      await this.add({
        name,
        type: "directory",
        mode: Number(st.mode) & 0o7777,
        uid: Number(st.uid),
        gid: Number(st.gid),
      });
    }
  }

  private async walk(part: DirPart, host: string, name: string, rel: string, st: Stats): Promise<void> {
    await this.host(part, host, name, rel, st);
    if (!st.isDirectory()) return;
    const children = (await this.io(readdir(host), "cannot list", host)).sort(compareNames);
    for (const child of children) {
      const childHost = path.join(host, child);
      const childStat = await this.io(lstatBig(childHost), "cannot read", childHost);
      await this.walk(part, childHost, childPath(name, child), rel ? `${rel}/${child}` : child, childStat);
    }
  }

  /** One host file system object as an entry (nothing for sockets, FIFOs, devices). */
  private async host(part: DirPart | FilesPart, host: string, name: string, rel: string, st: Stats) {
    if (name === "/") return; // the root of a container path "/" part has no entry
    const uid = part.owner?.uid ?? Number(st.uid);
    const gid = part.owner?.gid ?? Number(st.gid);
    const hostMode = Number(st.mode) & 0o7777;
    const module = part.modes === "module";
    if (st.isDirectory()) {
      return this.add({ name, type: "directory", mode: module ? 0o755 : hostMode, uid, gid });
    }
    if (st.isSymbolicLink()) {
      const target = await this.io(readlink(host), "cannot read the link", host);
      return this.add({ name, type: "symlink", mode: hostMode, uid, gid, linkname: target });
    }
    if (!st.isFile()) return;
    const mode = module ? (hostMode & 0o111 || BIN_SCRIPTS.has(rel) ? 0o755 : 0o644) : hostMode;
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      if (first !== undefined) return this.add({ name, type: "link", mode, uid, gid, linkname: first });
      this.inodes.set(key, name);
    }
    const size = Number(st.size);
    return this.add({ name, type: "file", mode, uid, gid, size }, this.content(host, size));
  }

  private async *content(host: string, size: number): AsyncGenerator<Buffer> {
    if (size === 0) return;
    let read = 0;
    try {
      for await (const chunk of createReadStream(host, { start: 0, end: size - 1, highWaterMark: 1 << 20 })) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } catch (err) {
      throw new CnbpError(LAYER_WRITE, `layer ${this.label}: cannot read ${host}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (read !== size) {
      throw new CnbpError(
        LAYER_WRITE,
        `layer ${this.label}: ${host} changed while it was written (${read} of ${size} bytes)`,
      );
    }
  }

  private async add(entry: EntryHeader, body?: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const seen = this.names.get(entry.name);
    if (seen !== undefined) {
      throw new CnbpError(LAYER_INVALID, `layer ${this.label}: ${entry.name} is written twice`);
    }
    this.names.set(entry.name, entry.type === "directory");
    await this.flow.room();

    const long = (s: string | undefined) =>
      s !== undefined && (Buffer.byteLength(s) > 100 || /[^\x20-\x7e]/.test(s));
    const bigIds = entry.uid > MAX_USTAR_ID || entry.gid > MAX_USTAR_ID;
    const pax: Record<string, string> | undefined =
      long(entry.name) || long(entry.linkname) || bigIds
        ? bigIds
          ? { uid: String(entry.uid), gid: String(entry.gid) }
          : {}
        : undefined;
    const header: Partial<Header> & { name: string } = {
      name: entry.name,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size: entry.size ?? 0,
      mtime: this.mtime,
      uname: "",
      gname: "",
      ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
      ...(pax ? { pax } : {}),
    };
    this.flow.add(pax ? 2048 : 512);

    let sink: ReturnType<Pack["entry"]> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (entry.type !== "file") sink = this.tar.entry(header, cb);
      else if (body === undefined || Buffer.isBuffer(body))
        sink = this.tar.entry(header, body ?? Buffer.alloc(0), cb);
      else sink = this.tar.entry(header, cb);
    });
    done.catch(() => {}); // awaited below; a pipeline failure may reject it earlier
    sink?.on("error", () => {}); // reported through the callback
    if (Buffer.isBuffer(body)) this.flow.add(body.length);
    else if (body !== undefined && sink) {
      try {
        for await (const chunk of body) {
          this.flow.add(chunk.length);
          sink.write(chunk);
          await this.flow.room();
        }
      } catch (err) {
        sink.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      sink.end(undefined);
    }
    await done;
  }

  private async io<T>(p: Promise<T>, what: string, host: string): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw new CnbpError(LAYER_WRITE, `layer ${this.label}: ${what} ${host}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }
}
