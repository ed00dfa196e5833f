/**
 * Layers made from host directories (a buildpack, the lifecycle tree), kept by a fingerprint of what they
 * were made from: every entry's path, type, mode, size, mtime and inode, and the recipe (container path,
 * options). Re-creating a builder then gzips only what changed; the lifecycle tree alone takes seconds.
 * Entries are written to a temp name and renamed, so a reader never sees half a layer.
 */
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LayerResult } from "../image/index.js";

export interface CachedLayer {
  /** The gzipped layer; never changed once written. */
  readonly path: string;
  readonly result: LayerResult;
}

export class LayerCache {
  /** `dir` undefined: no cache, every layer is written to `scratch`. */
  constructor(private readonly dir: string | undefined) {}

  /**
   * The layer for `hostDir` made by `write` with `recipe`: from the cache when the directory is unchanged,
   * else written to `fallback` (no cache) or into the cache.
   */
  async dirLayer(
    hostDir: string,
    recipe: string,
    fallback: string,
    write: (to: string) => Promise<LayerResult>,
  ): Promise<CachedLayer> {
    if (!this.dir) return { path: fallback, result: await write(fallback) };
    const key = createHash("sha256")
      .update(recipe)
      .update("\0")
      .update(await fingerprint(hostDir))
      .digest("hex");
    const meta = join(this.dir, `${key}.json`);
    const blob = join(this.dir, `${key}.layer`);
    try {
      const result = JSON.parse(await readFile(meta, "utf8")) as LayerResult;
      if ((await stat(blob)).size === result.size) return { path: blob, result };
    } catch {
      // absent or unreadable: made again below
    }
    await mkdir(this.dir, { recursive: true });
    const tmp = `${blob}.${process.pid}.tmp`;
    try {
      const result = await write(tmp);
      await rename(tmp, blob);
      await writeFile(meta, JSON.stringify(result));
      return { path: blob, result };
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

/** Every entry below `dir`, sorted, as `path type mode size mtime ino [link]` lines. */
async function fingerprint(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (rel: string) => {
    const abs = rel ? join(dir, rel) : dir;
    const st = await lstat(abs, { bigint: true });
    const link = st.isSymbolicLink() ? await readlink(abs) : "";
    lines.push(`${rel} ${st.mode} ${st.size} ${st.mtimeNs} ${st.ino} ${link}`);
    if (st.isDirectory()) {
      for (const name of (await readdir(abs)).sort()) await walk(rel ? `${rel}/${name}` : name);
    }
  };
  await walk("");
  return lines.join("\n");
}
