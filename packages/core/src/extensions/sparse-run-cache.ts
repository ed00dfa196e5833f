/**
 * Sparse run layouts kept between builds, one per key (the extended run image and what else goes into its
 * layout), so that a rebuild that reuses an extended run image neither exports it nor writes its layout
 * again. An entry appears whole or not at all (written aside, then renamed into place); the least recently
 * used beyond `keep` are removed, as are leftovers of writes that stopped half-way.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { basename, join } from "node:path";

/** Entries kept: a few apps' or run images' extended layouts, not every one ever built. */
const KEEP = 8;
/** A write aside older than this was stopped (a build killed meanwhile): nothing will finish it. */
const STALE_WRITE_MS = 60 * 60 * 1000;
const WRITING = ".tmp-";

export interface SparseRunCacheEntry {
  /** `<cacheDir>/<key>/<manifest digest>`: the sparse layout, as `<extended>/run/<digest>` takes it. */
  readonly dir: string;
  /** Whether it was there already. */
  readonly reused: boolean;
}

/**
 * The sparse layout of `key` in `cacheDir`; when absent, `write(outDir)` writes it into `<outDir>/<digest>/`
 * (as writeSparseRunImage does) and it is kept.
 */
export async function cachedSparseRunImage(
  cacheDir: string,
  key: string,
  write: (outDir: string) => Promise<{ readonly dir: string }>,
  keep = KEEP,
): Promise<SparseRunCacheEntry> {
  const entry = join(cacheDir, key);
  const found = await layoutIn(entry);
  if (found) {
    const now = new Date();
    await utimes(entry, now, now);
    return { dir: found, reused: true };
  }
  await mkdir(cacheDir, { recursive: true });
  const staging = await mkdtemp(join(cacheDir, WRITING));
  let dir: string | undefined;
  try {
    const written = await write(staging);
    await readableByAll(staging);
    await rename(staging, entry);
    dir = join(entry, basename(written.dir));
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // another build wrote the same entry meanwhile: its layout is the same
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    dir = await layoutIn(entry);
    if (!dir) throw err;
  }
  await evict(cacheDir, keep, key);
  return { dir, reused: false };
}

/**
 * The exporter reads the layout as the build user (the lifecycle drops root), and a mounted entry keeps the
 * modes it was written with: temporary directories' 0700, and blobs the export wrote 0600.
 */
async function readableByAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await readableByAll(path);
    else await chmod(path, 0o644);
  }
}

/** The one layout directory in a complete entry, or undefined when there is no entry. */
async function layoutIn(entry: string): Promise<string | undefined> {
  try {
    const [name, ...more] = await readdir(entry);
    return name && more.length === 0 ? join(entry, name) : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Removes the entries beyond the `keep` most recently used (never `current`), and stale writes. */
async function evict(cacheDir: string, keep: number, current: string): Promise<void> {
  const now = Date.now();
  const entries = await Promise.all(
    (await readdir(cacheDir)).map(async (name) => {
      const mtime = await stat(join(cacheDir, name)).then(
        (s) => s.mtimeMs,
        () => now,
      );
      return { name, mtime };
    }),
  );
  const kept = entries
    .filter((e) => !e.name.startsWith(WRITING) && e.name !== current)
    .sort((a, b) => b.mtime - a.mtime);
  const stale = entries.filter((e) => e.name.startsWith(WRITING) && now - e.mtime > STALE_WRITE_MS);
  for (const { name } of [...kept.slice(keep - 1), ...stale])
    await rm(join(cacheDir, name), { recursive: true, force: true });
}
