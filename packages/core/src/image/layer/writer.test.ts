import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { Writable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CnbpError } from "../../errors.js";
import { MediaType } from "../oci.js";
import { CNB_EPOCH, layerMtime } from "./common.js";
import { readLayer, type TarEntry } from "./reader.js";
import { makeLayerTree, removeTempDirs, sha256File, tempDir } from "./test-support/fixtures.js";
import { writeDirLayer, writeFilesLayer, writeLayer } from "./writer.js";

afterAll(removeTempDirs);

const owner = { uid: 1000, gid: 1001 };

async function headers(file: string) {
  const out: Omit<TarEntry, "content" | "bytes" | "path" | "devmajor" | "devminor" | "pax">[] = [];
  for await (const e of readLayer(file)) {
    const { content: _c, bytes: _b, path: _p, devmajor: _d, devminor: _n, pax: _x, ...header } = e;
    out.push(header);
  }
  return out;
}

function sha256sum(file: string): string {
  return `sha256:${execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]}`;
}

/** The layer of makeLayerTree, as the exporter writes it (parents from the host, contents owned 1000:1001). */
async function treeLayer(
  base: string,
  out: string | Writable,
  options: { gzip?: boolean; mtime?: Date } = {},
) {
  const node = path.join(base, "layers", "bp", "node");
  return writeDirLayer(node, "/layers/bp/node", out, { owner, label: "bp:node", ...options });
}

describe("layer writer", () => {
  it("writes the same bytes for the same tree, whatever the mtimes, creation order and temp path", async () => {
    const one = await tempDir();
    const two = await tempDir("cnbp-layer-other-name-");
    await makeLayerTree(one, { time: new Date("2001-02-03T04:05:06Z") });
    await makeLayerTree(two, { time: new Date("2024-06-07T08:09:10Z"), reverse: true });
    const [r1, r2] = [await treeLayer(one, `${one}.tgz`), await treeLayer(two, `${two}.tgz`)];
    expect(r2).toEqual(r1);
    expect(readFileSync(`${two}.tgz`).equals(readFileSync(`${one}.tgz`))).toBe(true);
    const [u1, u2] = [
      await treeLayer(one, `${one}.tar`, { gzip: false }),
      await treeLayer(two, `${two}.tar`, { gzip: false }),
    ];
    expect(u2).toEqual(u1);
    expect(u1.diffId).toBe(r1.diffId);
    expect(readFileSync(`${two}.tar`).equals(readFileSync(`${one}.tar`))).toBe(true);
  });

  it("gives the diffID of the tar and the digest and size of the gzip", async () => {
    const base = await tempDir();
    await makeLayerTree(base, { time: new Date() });
    const gz = `${base}.tgz`;
    const result = await treeLayer(base, gz);
    expect(result.mediaType).toBe(MediaType.ociLayerGzip);
    expect(result.digest).toBe(await sha256File(gz));
    expect(result.size).toBe((await stat(gz)).size);
    const tar = `${base}.from-gz.tar`;
    await writeFile(tar, gunzipSync(await readFile(gz)));
    expect(result.diffId).toBe(sha256sum(tar));
    expect(result.uncompressedSize).toBe((await stat(tar)).size);
    // deterministic gzip header: no mtime, no name, OS "unknown"
    const head = (await readFile(gz)).subarray(0, 10);
    expect([...head.subarray(0, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect(head[9]).toBe(255);

    const plain = `${base}.tar`;
    const raw = await treeLayer(base, plain, { gzip: false });
    expect(raw).toEqual({
      diffId: result.diffId,
      digest: result.diffId,
      size: result.uncompressedSize,
      uncompressedSize: result.uncompressedSize,
      mediaType: MediaType.ociLayer,
    });
    expect(sha256sum(plain)).toBe(result.diffId);
    expect(readFileSync(plain).equals(readFileSync(tar))).toBe(true);
  });

  it("writes normalised headers: parents first with their owners, then the walk in byte order", async () => {
    const base = await tempDir();
    await makeLayerTree(base, { time: new Date() });
    // a socket and a FIFO are skipped
    const server = net.createServer().listen(path.join(base, "layers/bp/node/sock"));
    await new Promise((resolve) => server.once("listening", resolve));
    execFileSync("mkfifo", [path.join(base, "layers/bp/node/fifo")]);
    const out = `${base}.tar`;
    try {
      await treeLayer(base, out, { gzip: false });
    } finally {
      server.close();
    }
    const common = { uname: "", gname: "", mtime: CNB_EPOCH, size: 0, linkname: null };
    const dir = (name: string, mode: number, uid = 1000, gid = 1001) =>
      ({ ...common, name, type: "directory", mode, uid, gid }) as const;
    const file = (name: string, mode: number, size: number) =>
      ({ ...common, name, type: "file", mode, uid: 1000, gid: 1001, size }) as const;
    const n = "/layers/bp/node";
    expect(await headers(out)).toEqual([
      dir("/layers", 0o750, 0, 0),
      dir("/layers/bp", 0o700, 0, 0),
      dir(n, 0o755),
      dir(`${n}/a`, 0o755),
      file(`${n}/a/x`, 0o644, 2),
      file(`${n}/a.txt`, 0o600, 10),
      {
        ...common,
        name: `${n}/abs`,
        type: "symlink",
        mode: 0o777,
        uid: 1000,
        gid: 1001,
        linkname: `${n}/bin/node`,
      },
      dir(`${n}/bin`, 0o755),
      file(`${n}/bin/node`, 0o755, 20),
      dir(`${n}/empty`, 0o700),
      file(`${n}/hard`, 0o644, 22),
      dir(`${n}/lib`, 0o755),
      {
        ...common,
        name: `${n}/lib/a.txt`,
        type: "link",
        mode: 0o644,
        uid: 1000,
        gid: 1001,
        linkname: `${n}/hard`,
      },
      file(`${n}/lib/b.txt`, 0o644, 20),
      {
        ...common,
        name: `${n}/link`,
        type: "symlink",
        mode: 0o777,
        uid: 1000,
        gid: 1001,
        linkname: "lib/a.txt",
      },
    ]);
    // GNU tar reads it the same way
    const listing = execFileSync("tar", ["--numeric-owner", "-tvf", out], { encoding: "utf8" }).split("\n");
    expect(listing[0]).toMatch(/^drwxr-x--- 0\/0 +0 1980-01-01 00:00 \/layers$/);
    expect(listing[12]).toMatch(
      /^hrw-r--r-- 1000\/1001 +0 1980-01-01 00:00 \/layers\/bp\/node\/lib\/a.txt link to/,
    );
  });

  it("uses SOURCE_DATE_EPOCH when the caller passes it", async () => {
    const base = await tempDir();
    await makeLayerTree(base, { time: new Date() });
    const result = await treeLayer(base, `${base}.tar`, { gzip: false, mtime: layerMtime("1700000000") });
    const all = await headers(`${base}.tar`);
    expect(new Set(all.map((h) => h.mtime.toISOString()))).toEqual(new Set(["2023-11-14T22:13:20.000Z"]));
    expect(result.diffId).not.toBe((await treeLayer(base, `${base}.2.tar`, { gzip: false })).diffId);
    expect(layerMtime("")).toEqual(CNB_EPOCH);
    expect(() => layerMtime("-1")).toThrow(
      'SOURCE_DATE_EPOCH: "-1" is not a number of seconds between 0 and 2147483647',
    );
  });

  it("writes explicit entries: the launcher and process-types layers", async () => {
    const base = await tempDir();
    const launcher = path.join(base, "launcher");
    await writeFile(launcher, '#!/bin/sh\nexec "$@"\n', { mode: 0o700 });
    const out = `${base}.tar`;
    const result = await writeLayer(
      [
        { kind: "directory", path: "/cnb" },
        { kind: "directory", path: "/cnb/lifecycle" },
        { kind: "file", path: "/cnb/lifecycle/launcher", source: launcher, mode: 0o755 },
        { kind: "directory", path: "/cnb/process" },
        { kind: "symlink", path: "/cnb/process/web", target: "/cnb/lifecycle/launcher" },
        { kind: "file", path: "/cnb/process/README", content: "made in memory\n", uid: 5, gid: 6 },
      ],
      out,
      { gzip: false },
    );
    expect(result.diffId).toBe(sha256sum(out));
    const entries: [string, string, number, number, string | null][] = [];
    for await (const e of readLayer(out)) {
      entries.push([e.path, e.type, e.mode, e.uid, e.linkname]);
      if (e.path === "/cnb/process/README") expect((await e.bytes()).toString()).toBe("made in memory\n");
    }
    expect(entries).toEqual([
      ["/cnb", "directory", 0o755, 0, null],
      ["/cnb/lifecycle", "directory", 0o755, 0, null],
      ["/cnb/lifecycle/launcher", "file", 0o755, 0, null],
      ["/cnb/process", "directory", 0o755, 0, null],
      ["/cnb/process/web", "symlink", 0o777, 0, "/cnb/lifecycle/launcher"],
      ["/cnb/process/README", "file", 0o644, 5, null],
    ]);
  });

  it("writes a module layer with pack's owner and mode rule, without /cnb parents", async () => {
    const base = await tempDir();
    const mod = path.join(base, "module");
    await mkdir(path.join(mod, "bin"), { recursive: true, mode: 0o700 });
    await writeFile(path.join(mod, "buildpack.toml"), "api = '0.10'\n", { mode: 0o600 });
    await writeFile(path.join(mod, "bin", "build"), "#!/bin/sh\n", { mode: 0o644 });
    await writeFile(path.join(mod, "bin", "helper"), "#!/bin/sh\n", { mode: 0o700 });
    await chmod(mod, 0o700);
    const out = `${base}.tar`;
    await writeLayer(
      [
        { kind: "directory", path: "/cnb/buildpacks/example_node" },
        {
          kind: "dir",
          hostDir: mod,
          containerPath: "/cnb/buildpacks/example_node/1.0.0",
          owner: { uid: 0, gid: 0 },
          parents: "none",
          modes: "module",
        },
      ],
      out,
      { gzip: false },
    );
    const entries: [string, number, number][] = [];
    for await (const e of readLayer(out)) entries.push([e.path, e.mode, e.uid]);
    const v = "/cnb/buildpacks/example_node/1.0.0";
    expect(entries).toEqual([
      ["/cnb/buildpacks/example_node", 0o755, 0],
      [v, 0o755, 0],
      [`${v}/bin`, 0o755, 0],
      [`${v}/bin/build`, 0o755, 0],
      [`${v}/bin/helper`, 0o755, 0],
      [`${v}/buildpack.toml`, 0o644, 0],
    ]);
  });

  it("writes listed files (a slice) sorted by full name, one entry each", async () => {
    const base = await tempDir();
    const app = path.join(base, "workspace");
    await mkdir(path.join(app, "a"), { recursive: true });
    await writeFile(path.join(app, "a", "x"), "x");
    await writeFile(path.join(app, "a", "not-listed"), "y");
    await writeFile(path.join(app, "a.txt"), "a");
    await writeFile(path.join(app, "b.txt"), "b");
    const out = `${base}.tar`;
    await writeFilesLayer(app, "/workspace", ["b.txt", "a/x", "a", ".", "a.txt", "a/x"], out, {
      owner,
      gzip: false,
    });
    const names: string[] = [];
    for await (const e of readLayer(out)) names.push(e.path);
    expect(names).toEqual([
      "/workspace",
      "/workspace/a",
      "/workspace/a.txt",
      "/workspace/a/x",
      "/workspace/b.txt",
    ]);
  });

  it("keeps the leading / of long and non-ASCII names and big owner ids (PAX)", async () => {
    const base = await tempDir();
    const deep = path.join(base, "d", "x".repeat(60), "y".repeat(60));
    await mkdir(deep, { recursive: true });
    await writeFile(path.join(deep, "zürich.txt"), "z");
    await symlink(`/${"t".repeat(120)}`, path.join(deep, "long-link"));
    const out = `${base}.tar`;
    await writeDirLayer(path.join(base, "d"), "/d", out, {
      parents: "none",
      owner: { uid: 300000, gid: 4000000 },
      gzip: false,
    });
    const entries: [string, number, number, string | null][] = [];
    for await (const e of readLayer(out)) entries.push([e.name, e.uid, e.gid, e.linkname]);
    const d = `/d/${"x".repeat(60)}/${"y".repeat(60)}`;
    expect(entries).toEqual([
      ["/d", 300000, 4000000, null],
      [`/d/${"x".repeat(60)}`, 300000, 4000000, null],
      [d, 300000, 4000000, null],
      [`${d}/long-link`, 300000, 4000000, `/${"t".repeat(120)}`],
      [`${d}/zürich.txt`, 300000, 4000000, null],
    ]);
    const listing = execFileSync("tar", ["--numeric-owner", "-tvf", out], { encoding: "utf8" });
    expect(listing).toContain(`-rw-r--r-- 300000/4000000    1 1980-01-01 00:00 ${d}/zürich.txt`);
  });

  it("writes to a Writable the same bytes it writes to a file", async () => {
    const base = await tempDir();
    await makeLayerTree(base, { time: new Date() });
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const toStream = await treeLayer(base, sink);
    const toFile = await treeLayer(base, `${base}.tgz`);
    expect(toStream).toEqual(toFile);
    expect(Buffer.concat(chunks).equals(readFileSync(`${base}.tgz`))).toBe(true);
  });

  it("fails with CnbpErrors that name the layer, and leaves no partial file", async () => {
    const base = await tempDir();
    const out = path.join(base, "out.tgz");
    await expect(
      writeDirLayer(path.join(base, "missing"), "/layers/bp/node", out, { parents: "none" }),
    ).rejects.toThrow(`layer /layers/bp/node: cannot read ${path.join(base, "missing")}: ENOENT`);
    await expect(stat(out)).rejects.toThrow("ENOENT");
    await expect(writeDirLayer(base, "layers/x", out)).rejects.toThrow(
      'layer layers/x: container path "layers/x" is not a normalised absolute container path',
    );
    await expect(
      writeLayer(
        [
          { kind: "directory", path: "/cnb" },
          { kind: "file", path: "/cnb", content: "" },
        ],
        out,
        { label: "launcher" },
      ),
    ).rejects.toThrow(new CnbpError("CNBP_LAYER_INVALID", "layer launcher: /cnb is written twice"));
    await expect(stat(out)).rejects.toThrow("ENOENT");
    await expect(writeDirLayer(base, "/a/b/c/d/e/f/g/h/i/j/k/l", out)).rejects.toThrow(
      `layer /a/b/c/d/e/f/g/h/i/j/k/l: ${base} has no host directory for the parent /a of /a/b/c/d/e/f/g/h/i/j/k/l`,
    );
  });

  it("streams a 200 MB file without holding it in memory", { timeout: 120_000 }, async () => {
    const base = await tempDir();
    const dir = path.join(base, "big");
    await mkdir(dir);
    const file = path.join(dir, "sparse.bin");
    execFileSync("truncate", ["-s", "200M", file]);
    // some non-zero data too, so that gzip has work to do
    await writeFile(path.join(dir, "random.bin"), randomBytes(1 << 20));
    const size = 200 * 1024 * 1024;
    // warm up (module code, zlib and hash state) on a small layer, so that only the streaming is measured
    const small = await tempDir();
    await writeFile(path.join(small, "f"), randomBytes(1 << 20));
    await writeDirLayer(small, "/small", `${small}.tgz`, { parents: "none" });
    await writeDirLayer(small, "/small", `${small}.tar`, { parents: "none", gzip: false });
    const measure = async (gzip: boolean) => {
      const before = process.memoryUsage().rss;
      let peak = before;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      const start = process.hrtime.bigint();
      const result = await writeDirLayer(dir, "/big", path.join(base, gzip ? "big.tgz" : "big.tar"), {
        parents: "none",
        gzip,
      });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      const growth = (peak - before) / 1024 / 1024;
      console.log(
        `layer writer, 200 MB file, ${gzip ? "gzip level 6" : "plain tar"}: ${(200 / seconds).toFixed(0)} MB/s, ` +
          `peak RSS growth ${growth.toFixed(1)} MB`,
      );
      expect(result.uncompressedSize).toBeGreaterThan(size);
      expect(growth).toBeLessThan(100); // half the file; measured: 35-45 MB with gzip (mostly garbage), ~1 MB plain
      return result;
    };
    const gz = await measure(true);
    const plain = await measure(false);
    expect(plain.diffId).toBe(gz.diffId);
    expect(gz.size).toBeLessThan(2 * 1024 * 1024);
  });
});
