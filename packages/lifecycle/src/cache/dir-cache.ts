/**
 * The cache directory (`-cache-dir`, shared/spec/platform.md 8.1): `<dir>/committed/` holds one uncompressed
 * tar per cached layer, `<diffID>.tar`, and the metadata JSON in a file named
 * `io.buildpacks.lifecycle.cache.metadata`. A new cache is built in `<dir>/staging/` (recreated empty when the
 * cache is opened): reused layers are hard-linked (or copied) from `committed/`, added ones copied in. Commit
 * renames `committed` to `committed-backup` and `staging` to `committed`, then deletes the backup; opening a
 * cache whose last commit was cut short between the two renames puts the backup back.
 */
import { createWriteStream } from "node:fs";
import { copyFile, link, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { type CacheMetadata, CnbpError, cacheMetadataLabel, Digest, serializeSpec } from "@cnbp/core";
import type { Log } from "../log.js";
import {
  CACHE_METADATA,
  CACHE_WRITE,
  CacheCorruptError,
  type CommitResult,
  type CommittedLayer,
  checkAllStaged,
  checkDiffId,
  diffIdMismatch,
  fileChunks,
  type LayerCache,
  parseCacheMetadata,
  referencedDiffIds,
  verifiedTar,
} from "./common.js";

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errno(err) === "ENOENT") return false;
    throw err;
  }
}

export class DirCache implements LayerCache {
  readonly kind = "directory";
  readonly name: string;
  readonly committedDir: string;
  readonly stagingDir: string;
  readonly backupDir: string;
  private readonly staged = new Map<string, CommittedLayer>();
  private committed = false;

  private constructor(
    readonly dir: string,
    readonly found: boolean,
    readonly metadata: CacheMetadata,
    private readonly log: Log,
  ) {
    this.name = `cache directory ${dir}`;
    this.committedDir = join(dir, "committed");
    this.stagingDir = join(dir, "staging");
    this.backupDir = join(dir, "committed-backup");
  }

  /**
   * Opens (and creates, when missing) a cache directory: finishes or undoes an interrupted commit, empties
   * `staging/`, and reads the committed metadata (a corrupt one is reported and ignored).
   */
  static async open(dir: string, log: Log): Promise<DirCache> {
    const name = `cache directory ${dir}`;
    const committed = join(dir, "committed");
    const backup = join(dir, "committed-backup");
    const staging = join(dir, "staging");
    await mkdir(dir, { recursive: true });
    if (!(await exists(committed)) && (await exists(backup))) {
      // the last commit stopped after moving committed away: the backup is the committed cache
      await rename(backup, committed);
      log.info(`${name}: an earlier commit did not finish; using the cache it was replacing`);
    }
    await rm(backup, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await mkdir(committed, { recursive: true });

    const file = join(committed, CACHE_METADATA);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if (errno(err) === "ENOENT") return new DirCache(dir, false, {}, log);
      throw err;
    }
    const parsed = parseCacheMetadata(text, file);
    if (!parsed.ok) {
      log.warn(`${name} is corrupt, ignoring it: ${parsed.problem}`);
      return new DirCache(dir, true, {}, log);
    }
    return new DirCache(dir, true, parsed.value, log);
  }

  private blobPath(base: string, diffId: string): string {
    return join(base, `${diffId}.tar`);
  }

  async openLayer(diffId: string, layerKey: string): Promise<AsyncIterable<Buffer>> {
    const corrupt = (problem: string) => new CacheCorruptError(this.name, layerKey, diffId, problem);
    if (!Digest.safeParse(diffId).success) throw corrupt("is not named by a sha256 diffID");
    const path = this.blobPath(this.committedDir, diffId);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, "r");
    } catch (err) {
      if (errno(err) === "ENOENT") throw corrupt(`is missing: there is no ${path}`);
      if (errno(err) === "EACCES") throw corrupt(`cannot be read: ${(err as Error).message}`);
      throw err;
    }
    return verifiedTar(fh.createReadStream({ highWaterMark: 1 << 20 }), diffId, corrupt);
  }

  async reuse(layerKey: string, diffId: string): Promise<boolean> {
    this.writable();
    checkDiffId(diffId, `${this.name}: reusing ${layerKey}`);
    if (this.staged.has(diffId)) return true;
    try {
      for await (const _ of await this.openLayer(diffId, layerKey)) {
        // read to the end: the blob is checked against its diffID
      }
    } catch (err) {
      if (!(err instanceof CacheCorruptError)) throw err;
      this.log.warn(`${err.message}: not reusing it`);
      return false;
    }
    const from = this.blobPath(this.committedDir, diffId);
    const to = this.blobPath(this.stagingDir, diffId);
    try {
      await link(from, to);
    } catch (err) {
      const code = errno(err);
      if (code === "EXDEV" || code === "EPERM" || code === "ENOTSUP" || code === "EMLINK") {
        await copyFile(from, to);
      } else if (code !== "EEXIST") {
        throw err;
      }
    }
    this.staged.set(diffId, { key: layerKey, diffId, how: "reused", bytes: 0 });
    return true;
  }

  async add(layerKey: string, tarPath: string, diffId: string): Promise<void> {
    this.writable();
    checkDiffId(diffId, `${this.name}: adding ${layerKey}`);
    if (this.staged.has(diffId)) return;
    const dest = this.blobPath(this.stagingDir, diffId);
    const partial = `${dest}.${process.pid}-${Math.random().toString(36).slice(2)}.partial`;
    try {
      // the uncompressed tar, checked against the diffID on the way
      await pipeline(
        verifiedTar(fileChunks(tarPath), diffId, diffIdMismatch(this.name, layerKey, tarPath, diffId)),
        createWriteStream(partial, { mode: 0o644 }),
      );
      await rename(partial, dest);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const { size } = await stat(dest);
    this.staged.set(diffId, { key: layerKey, diffId, how: "added", bytes: size });
  }

  async commit(metadata: CacheMetadata): Promise<CommitResult> {
    this.writable();
    const wanted = referencedDiffIds(metadata, this.name);
    checkAllStaged(wanted, new Set(this.staged.keys()), this.name);
    for (const diffId of [...this.staged.keys()]) {
      if (wanted.includes(diffId)) continue;
      await rm(this.blobPath(this.stagingDir, diffId), { force: true });
      this.staged.delete(diffId);
    }
    const text = serializeSpec(cacheMetadataLabel, metadata);
    await writeFile(join(this.stagingDir, CACHE_METADATA), text);
    this.committed = true;
    await rename(this.committedDir, this.backupDir);
    try {
      await rename(this.stagingDir, this.committedDir);
    } catch (err) {
      await rename(this.backupDir, this.committedDir);
      throw new CnbpError(
        CACHE_WRITE,
        `${this.name}: committing the cache failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    await rm(this.backupDir, { recursive: true, force: true });
    const layers = wanted.map((d) => this.staged.get(d) as CommittedLayer);
    return {
      identifier: this.committedDir,
      layers,
      bytesWritten: layers.reduce((n, l) => n + l.bytes, 0) + Buffer.byteLength(text),
    };
  }

  private writable(): void {
    if (this.committed) throw new CnbpError(CACHE_WRITE, `${this.name}: the cache was committed already`);
  }
}
