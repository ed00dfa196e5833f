/**
 * The cache directory on a real file system: layers written by core's layer writer, committed, reused,
 * replaced; interrupted commits; and corrupt caches, which are reported and never used.
 */
import { mkdir, readdir, readFile, rename, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { CacheCorruptError } from "./common.js";
import { DirCache } from "./dir-cache.js";
import { captureLog, collect, makeLayer, removeTempDirs, tempDir } from "./test-support/fixtures.js";

const METADATA = "io.buildpacks.lifecycle.cache.metadata";
let base: string;
let cacheDir: string;

beforeEach(async () => {
  base = await tempDir();
  cacheDir = join(base, "cache");
});
afterAll(removeTempDirs);

const layerDir = (name: string) => join(base, "layers", "example_node", name);
const ls = async (dir: string) => (await readdir(dir)).sort();
const metadataFor = (layers: Record<string, string>, sbom?: string) => ({
  ...(sbom ? { sbom: { sha: sbom } } : {}),
  buildpacks: [
    {
      key: "example/node",
      version: "1.0.0",
      layers: Object.fromEntries(
        Object.entries(layers).map(([name, sha]) => [
          name,
          { sha, data: { name }, build: false, launch: false, cache: true },
        ]),
      ),
    },
  ],
});

/** Layers a, b, c (b gzipped, as the exporter's image layers are) and a committed cache holding a and b. */
async function committedCache() {
  const a = await makeLayer(layerDir("a"), { "a.txt": "aaa" }, join(base, "tars", "a.tar"));
  const b = await makeLayer(layerDir("b"), { "b.txt": "bbb" }, join(base, "tars", "b.tar.gz"), true);
  const c = await makeLayer(layerDir("c"), { "c/c.txt": "ccc" }, join(base, "tars", "c.tar"));
  const { log } = captureLog();
  const cache = await DirCache.open(cacheDir, log);
  await cache.add("example/node:a", a.tarPath, a.diffId);
  await cache.add("example/node:b", b.tarPath, b.diffId);
  const result = await cache.commit(metadataFor({ a: a.diffId, b: b.diffId }));
  return { a, b, c, result };
}

describe("cache directory", () => {
  it("starts empty, and commits the layers added as uncompressed tars named by diffID", async () => {
    const { log, out, err } = captureLog();
    const empty = await DirCache.open(cacheDir, log);
    expect(empty.found).toBe(false);
    expect(empty.metadata).toEqual({});
    expect(await ls(cacheDir)).toEqual(["committed", "staging"]);
    expect(out.concat(err)).toEqual([]);

    const { a, b, result } = await committedCache();
    expect(await ls(cacheDir)).toEqual(["committed"]);
    expect(await ls(join(cacheDir, "committed"))).toEqual(
      [`${a.diffId}.tar`, `${b.diffId}.tar`, METADATA].sort(),
    );
    // a is the writer's tar as it is; b was gunzipped: both are the bytes their diffIDs name
    expect(await readFile(join(cacheDir, "committed", `${a.diffId}.tar`))).toEqual(await readFile(a.tarPath));
    const bBytes = await readFile(join(cacheDir, "committed", `${b.diffId}.tar`));
    expect(bBytes.subarray(0, 2)).not.toEqual(Buffer.from([0x1f, 0x8b]));
    expect(JSON.parse(await readFile(join(cacheDir, "committed", METADATA), "utf8"))).toEqual(
      metadataFor({ a: a.diffId, b: b.diffId }),
    );
    expect(result).toEqual({
      identifier: join(cacheDir, "committed"),
      layers: [
        { key: "example/node:a", diffId: a.diffId, how: "added", bytes: (await stat(a.tarPath)).size },
        { key: "example/node:b", diffId: b.diffId, how: "added", bytes: bBytes.length },
      ],
      bytesWritten:
        (await stat(a.tarPath)).size +
        bBytes.length +
        (await stat(join(cacheDir, "committed", METADATA))).size,
    });

    const reopened = await DirCache.open(cacheDir, log);
    expect(reopened.found).toBe(true);
    expect(reopened.metadata).toEqual(metadataFor({ a: a.diffId, b: b.diffId }));
    expect(await collect(await reopened.openLayer(a.diffId, "example/node:a"))).toEqual(
      await readFile(a.tarPath),
    );
  });

  it("keeps what is reused or added and drops the rest on the next commit", async () => {
    const { a, b, c } = await committedCache();
    const { log, err } = captureLog();
    const cache = await DirCache.open(cacheDir, log);
    expect(await cache.reuse("example/node:a", a.diffId)).toBe(true);
    await cache.add("example/node:c", c.tarPath, c.diffId);
    // adding or reusing twice stores one copy
    await cache.add("example/node:c", c.tarPath, c.diffId);
    expect(await cache.reuse("example/node:a", a.diffId)).toBe(true);
    expect(await ls(join(cacheDir, "staging"))).toEqual([`${a.diffId}.tar`, `${c.diffId}.tar`].sort());
    // the reused blob is the committed one, hard-linked
    expect((await stat(join(cacheDir, "staging", `${a.diffId}.tar`))).ino).toBe(
      (await stat(join(cacheDir, "committed", `${a.diffId}.tar`))).ino,
    );
    const result = await cache.commit(metadataFor({ a: a.diffId, c: c.diffId }));
    expect(result.layers.map((l) => [l.key, l.how, l.bytes])).toEqual([
      ["example/node:a", "reused", 0],
      ["example/node:c", "added", (await stat(c.tarPath)).size],
    ]);
    expect(await ls(cacheDir)).toEqual(["committed"]);
    expect(await ls(join(cacheDir, "committed"))).toEqual(
      [`${a.diffId}.tar`, `${c.diffId}.tar`, METADATA].sort(),
    );
    expect(err).toEqual([]);
    expect(b.diffId).not.toBe(c.diffId);
  });

  it("leaves out layers the new metadata does not name, and refuses metadata naming layers it lacks", async () => {
    const { a, b, c } = await committedCache();
    const { log } = captureLog();
    const cache = await DirCache.open(cacheDir, log);
    await cache.reuse("example/node:a", a.diffId);
    await cache.add("example/node:c", c.tarPath, c.diffId);
    await expect(cache.commit(metadataFor({ a: a.diffId, b: b.diffId }))).rejects.toThrow(
      `cache directory ${cacheDir}: the new metadata names layers that were neither reused nor added: ${b.diffId}`,
    );
    await cache.commit(metadataFor({ c: c.diffId }));
    expect(await ls(join(cacheDir, "committed"))).toEqual([`${c.diffId}.tar`, METADATA].sort());
    await expect(cache.add("example/node:a", a.tarPath, a.diffId)).rejects.toThrow(
      `cache directory ${cacheDir}: the cache was committed already`,
    );
  });

  it("refuses a tar that is not the layer its diffID names", async () => {
    const { a, c } = await committedCache();
    const cache = await DirCache.open(cacheDir, captureLog().log);
    await expect(cache.add("example/node:c", c.tarPath, a.diffId)).rejects.toThrow(
      `cache directory ${cacheDir}: layer example/node:c: ${c.tarPath} is not the layer ${a.diffId}: its content has diffID ${c.diffId}`,
    );
    await expect(cache.add("example/node:c", c.tarPath, "sha256:abc")).rejects.toThrow(
      `cache directory ${cacheDir}: adding example/node:c: "sha256:abc" is not a sha256 diffID`,
    );
    expect(await ls(join(cacheDir, "staging"))).toEqual([]);
  });

  it("recovers from a commit cut short", async () => {
    const { a, b } = await committedCache();
    const committed = join(cacheDir, "committed");
    // a build that died while staging: staging/ is left behind
    await leaveStaging();
    let cache = await DirCache.open(cacheDir, captureLog().log);
    expect(await ls(join(cacheDir, "staging"))).toEqual([]);
    expect(cache.metadata).toEqual(metadataFor({ a: a.diffId, b: b.diffId }));

    // died between the two renames: committed/ moved to committed-backup/, staging/ not yet in its place
    await leaveStaging();
    await rename(committed, join(cacheDir, "committed-backup"));
    const { log, out } = captureLog();
    cache = await DirCache.open(cacheDir, log);
    expect(out).toEqual([
      `cache directory ${cacheDir}: an earlier commit did not finish; using the cache it was replacing`,
    ]);
    expect(await ls(cacheDir)).toEqual(["committed", "staging"]);
    expect(cache.metadata).toEqual(metadataFor({ a: a.diffId, b: b.diffId }));
    expect(await collect(await cache.openLayer(b.diffId, "example/node:b"))).toHaveLength(
      (await stat(join(committed, `${b.diffId}.tar`))).size,
    );

    // died after the second rename: only the backup is left to delete
    await leaveStaging();
    await rename(join(cacheDir, "staging"), join(cacheDir, "committed-backup"));
    cache = await DirCache.open(cacheDir, captureLog().log);
    expect(await ls(cacheDir)).toEqual(["committed", "staging"]);
    expect(cache.metadata).toEqual(metadataFor({ a: a.diffId, b: b.diffId }));

    async function leaveStaging() {
      await mkdir(join(cacheDir, "staging"), { recursive: true });
      await writeFile(join(cacheDir, "staging", `${a.diffId}.tar`), "half a tar");
      await writeFile(join(cacheDir, "staging", METADATA), "{");
    }
  });

  describe("corrupt", () => {
    it("metadata that is not JSON: a warning, and an empty cache", async () => {
      await committedCache();
      const file = join(cacheDir, "committed", METADATA);
      await writeFile(file, '{"buildpacks": [');
      const { log, err } = captureLog();
      const cache = await DirCache.open(cacheDir, log);
      expect(err).toEqual([
        `Warning: cache directory ${cacheDir} is corrupt, ignoring it: ${file}: is not valid JSON: Unexpected end of JSON input`,
      ]);
      expect(cache.found).toBe(true);
      expect(cache.metadata).toEqual({});
    });

    it("metadata naming a layer by something else than a diffID: a warning, and an empty cache", async () => {
      await committedCache();
      const file = join(cacheDir, "committed", METADATA);
      await writeFile(file, JSON.stringify(metadataFor({ a: "../../../etc/passwd" })));
      const { log, err } = captureLog();
      const cache = await DirCache.open(cacheDir, log);
      expect(err).toEqual([
        `Warning: cache directory ${cacheDir} is corrupt, ignoring it: ${file}: buildpacks[0].layers.a.sha "../../../etc/passwd" is not a digest (sha256:<64 lowercase hex digits>)`,
      ]);
      expect(cache.metadata).toEqual({});
    });

    it("a missing blob: never read nor reused", async () => {
      const { a } = await committedCache();
      await rename(
        join(cacheDir, "committed", `${a.diffId}.tar`),
        join(cacheDir, "committed", `${a.diffId}.gone`),
      );
      const { log, err } = captureLog();
      const cache = await DirCache.open(cacheDir, log);
      const message = `cache directory ${cacheDir}: cached layer example/node:a (${a.diffId}) is missing: there is no ${join(cacheDir, "committed", `${a.diffId}.tar`)}`;
      await expect(cache.openLayer(a.diffId, "example/node:a")).rejects.toBeInstanceOf(CacheCorruptError);
      await expect(cache.openLayer(a.diffId, "example/node:a")).rejects.toThrow(message);
      expect(await cache.reuse("example/node:a", a.diffId)).toBe(false);
      expect(err).toEqual([`Warning: ${message}: not reusing it`]);
      expect(await ls(join(cacheDir, "staging"))).toEqual([]);
    });

    it("a blob with other bytes, or cut short: the bytes are read, then refused", async () => {
      const { a, b } = await committedCache();
      const aPath = join(cacheDir, "committed", `${a.diffId}.tar`);
      const bytes = await readFile(aPath);
      const at = bytes.indexOf("aaa");
      bytes[at] = "x".charCodeAt(0);
      await writeFile(aPath, bytes);
      await truncate(join(cacheDir, "committed", `${b.diffId}.tar`), 700);

      const { log, err } = captureLog();
      const cache = await DirCache.open(cacheDir, log);
      const wrong = `cache directory ${cacheDir}: cached layer example/node:a (${a.diffId}) is corrupt: its content has diffID sha256:`;
      await expect(collect(await cache.openLayer(a.diffId, "example/node:a"))).rejects.toThrow(wrong);
      const short = `cache directory ${cacheDir}: cached layer example/node:b (${b.diffId}) is corrupt: its content has diffID sha256:`;
      await expect(collect(await cache.openLayer(b.diffId, "example/node:b"))).rejects.toThrow(short);
      expect(await cache.reuse("example/node:a", a.diffId)).toBe(false);
      expect(await cache.reuse("example/node:b", b.diffId)).toBe(false);
      expect(err).toHaveLength(2);
      expect(err[0]).toMatch(new RegExp(`^Warning: ${regexQuote(wrong)}[a-f0-9]{64}: not reusing it$`));
      expect(err[1]).toMatch(new RegExp(`^Warning: ${regexQuote(short)}[a-f0-9]{64}: not reusing it$`));
      await cache.commit({});
      expect(await ls(join(cacheDir, "committed"))).toEqual([METADATA]);
    });
  });
});

function regexQuote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
