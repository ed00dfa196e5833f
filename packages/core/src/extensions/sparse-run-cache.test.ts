/** cachedSparseRunImage on a real directory: written once per key, reused after, whole or not at all, bounded. */
import { mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../image/layout/test-support/helpers.js";
import { cachedSparseRunImage } from "./sparse-run-cache.js";

/** A stand-in for writeSparseRunImage: `<outDir>/<digest>/index.json`, counting its calls. */
function writer(digest = "sha256:abc") {
  const calls: string[] = [];
  const write = async (outDir: string) => {
    calls.push(outDir);
    const dir = join(outDir, digest);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, "index.json"), `{"for":"${digest}"}`, { mode: 0o600 });
    return { dir };
  };
  return { calls, write };
}

describe("cachedSparseRunImage", () => {
  it("writes an entry once and reuses it, touching it as used", async () => {
    const cache = join(await tempDir("cnbp-sparse-cache-"), "extended-run");
    const { calls, write } = writer();
    const first = await cachedSparseRunImage(cache, "k1", write);
    expect(first).toEqual({ dir: join(cache, "k1", "sha256:abc"), reused: false });
    expect(await readFile(join(first.dir, "index.json"), "utf8")).toBe('{"for":"sha256:abc"}');
    expect(await readdir(cache)).toEqual(["k1"]);
    // the exporter reads it as the build user
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    expect([await mode(join(cache, "k1")), await mode(first.dir)]).toEqual([0o755, 0o755]);
    expect(await mode(join(first.dir, "index.json"))).toBe(0o644);

    const old = new Date(Date.now() - 60_000);
    await utimes(join(cache, "k1"), old, old);
    const second = await cachedSparseRunImage(cache, "k1", write);
    expect(second).toEqual({ dir: first.dir, reused: true });
    expect(calls).toHaveLength(1);
    expect((await stat(join(cache, "k1"))).mtimeMs).toBeGreaterThan(old.getTime() + 30_000);
  });

  it("keeps nothing of a write that fails, and throws its error", async () => {
    const cache = join(await tempDir("cnbp-sparse-cache-"), "extended-run");
    const failing = async (outDir: string) => {
      await writeFile(join(outDir, "half"), "x");
      throw new Error("the layout could not be written");
    };
    await expect(cachedSparseRunImage(cache, "k1", failing)).rejects.toThrow(
      "the layout could not be written",
    );
    expect(await readdir(cache)).toEqual([]);
  });

  it("uses the entry another build wrote meanwhile, and leaves no write of its own", async () => {
    const cache = join(await tempDir("cnbp-sparse-cache-"), "extended-run");
    const other = writer("sha256:other");
    const racing = async (outDir: string) => {
      // the other build finishes the same key while this one writes
      await cachedSparseRunImage(cache, "k1", other.write);
      return writer("sha256:mine").write(outDir);
    };
    const entry = await cachedSparseRunImage(cache, "k1", racing);
    expect(entry).toEqual({ dir: join(cache, "k1", "sha256:other"), reused: false });
    expect(await readdir(cache)).toEqual(["k1"]);
  });

  it("keeps the most recently used entries and removes stale writes, never the one just written", async () => {
    const cache = join(await tempDir("cnbp-sparse-cache-"), "extended-run");
    const { write } = writer();
    for (const [i, key] of ["a", "b", "c"].entries()) {
      await cachedSparseRunImage(cache, key, write, 3);
      const t = new Date(Date.now() - (10 - i) * 60_000);
      await utimes(join(cache, key), t, t);
    }
    await cachedSparseRunImage(cache, "a", write, 3);
    await mkdir(join(cache, ".tmp-stale"));
    await mkdir(join(cache, ".tmp-running"));
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(cache, ".tmp-stale"), twoHoursAgo, twoHoursAgo);

    await cachedSparseRunImage(cache, "d", write, 3);
    expect((await readdir(cache)).sort()).toEqual([".tmp-running", "a", "c", "d"]);
  });
});
