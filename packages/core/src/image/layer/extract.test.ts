import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CnbpError } from "../../errors.js";
import { CNB_EPOCH } from "./common.js";
import { extractLayer } from "./extract.js";
import { makeLayerTree, makeTar, removeTempDirs, type TarSpec, tempDir } from "./test-support/fixtures.js";
import { writeDirLayer } from "./writer.js";

afterAll(removeTempDirs);

const owner = { uid: 1000, gid: 1001 };
const file = (name: string, content = "x"): TarSpec => ({
  header: { name, type: "file", mode: 0o644 },
  content,
});
const dir = (name: string): TarSpec => ({ header: { name, type: "directory", mode: 0o755 } });
const symlinkTo = (name: string, linkname: string): TarSpec => ({
  header: { name, type: "symlink", linkname },
});
const hardlinkTo = (name: string, linkname: string): TarSpec => ({
  header: { name, type: "link", linkname },
});

/** Extracts a hand-made tar from memory into a fresh dir inside a fresh parent (to see what escapes). */
async function extractEntries(entries: TarSpec[], options: { strip?: string; gzip?: boolean } = {}) {
  const parent = await tempDir();
  const dest = path.join(parent, "root");
  const tar = await makeTar(entries);
  const promise = extractLayer(Readable.from([options.gzip ? gzipSync(tar) : tar]), dest, {
    label: "evil",
    ...(options.strip ? { strip: options.strip } : {}),
  });
  return { parent, dest, promise };
}

async function tree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(root, r));
    out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
    if (st.isDirectory()) out.push(...(await tree(root, r)));
  }
  return out;
}

describe("layer extraction", () => {
  it("round-trips a layer: contents, modes, owners, links, mtimes, and the same diffID again", async () => {
    const base = await tempDir();
    const node = await makeLayerTree(base, { time: new Date() });
    const gz = `${base}.tgz`;
    const written = await writeDirLayer(node, "/layers/bp/node", gz, { owner, parents: "none" });
    const dest = path.join(await tempDir(), "node");
    const result = await extractLayer(gz, dest, {
      label: "bp:node",
      strip: "/layers/bp/node",
      ownership: "tar",
    });
    expect(result).toEqual({ extracted: 13, skipped: 0 });
    expect(await tree(dest)).toEqual([
      "a 755 1000:1001",
      "a/x 644 1000:1001",
      "a.txt 600 1000:1001",
      "abs 777 1000:1001",
      "bin 755 1000:1001",
      "bin/node 755 1000:1001",
      "empty 700 1000:1001",
      "hard 644 1000:1001",
      "lib 755 1000:1001",
      "lib/a.txt 644 1000:1001",
      "lib/b.txt 644 1000:1001",
      "link 777 1000:1001",
    ]);
    expect((await stat(dest)).uid).toBe(1000);
    expect(await readFile(path.join(dest, "bin/node"), "utf8")).toBe("#!/bin/sh\necho node\n");
    expect(await readlink(path.join(dest, "link"))).toBe("lib/a.txt");
    expect(await readlink(path.join(dest, "abs"))).toBe("/layers/bp/node/bin/node");
    expect((await stat(path.join(dest, "lib/a.txt"))).ino).toBe((await stat(path.join(dest, "hard"))).ino);
    expect((await stat(path.join(dest, "lib/a.txt"))).nlink).toBe(2);
    for (const rel of ["", "a", "a/x", "bin/node", "empty"]) {
      expect((await stat(path.join(dest, rel))).mtime).toEqual(CNB_EPOCH);
    }
    const again = await writeDirLayer(dest, "/layers/bp/node", `${base}.again.tgz`, {
      owner,
      parents: "none",
    });
    expect(again).toEqual(written);
  });

  it("extracts everything under the destination without strip, gzip or not, owned by the process when told", async () => {
    const base = await tempDir();
    await makeLayerTree(base, { time: new Date() });
    const node = path.join(base, "layers/bp/node");
    for (const gzip of [true, false]) {
      const out = `${base}.${gzip}`;
      await writeDirLayer(node, "/layers/bp/node", out, { owner, gzip });
      const dest = await tempDir();
      const result = await extractLayer(out, dest, { label: "whole", ownership: "none" });
      expect(result).toEqual({ extracted: 15, skipped: 0 });
      expect((await tree(dest)).slice(0, 4)).toEqual([
        "layers 750 0:0",
        "layers/bp 700 0:0",
        "layers/bp/node 755 0:0",
        "layers/bp/node/a 755 0:0",
      ]);
    }
  });

  it("skips what is outside the strip path and creates missing parents", async () => {
    const { dest, promise } = await extractEntries(
      [
        file("/etc/passwd"),
        file("./layers/bp/node/deep/er/f", "content"),
        dir("/layers/bp/node"),
        { header: { name: "/layers/bp/node/fifo", type: "fifo" } },
      ],
      { strip: "/layers/bp/node", gzip: true },
    );
    expect(await promise).toEqual({ extracted: 2, skipped: 2 });
    expect(await readFile(path.join(dest, "deep/er/f"), "utf8")).toBe("content");
    expect(await readdir(dest)).toEqual(["deep"]);
  });

  it("replaces a file or symlink already there, never writing through it", async () => {
    const parent = await tempDir();
    const dest = path.join(parent, "root");
    await mkdir(dest);
    await writeFile(path.join(parent, "victim"), "keep");
    await symlink(path.join(parent, "victim"), path.join(dest, "f"));
    const tar = await makeTar([file("/f", "new")]);
    await extractLayer(Readable.from([tar]), dest, { label: "replace" });
    expect(await readFile(path.join(parent, "victim"), "utf8")).toBe("keep");
    expect((await lstat(path.join(dest, "f"))).isFile()).toBe(true);
    expect(await readFile(path.join(dest, "f"), "utf8")).toBe("new");
  });

  describe("refuses", () => {
    const cases: [string, TarSpec[], string, string?][] = [
      ["a .. component", [file("../x")], 'layer evil: refused entry "../x": path has a ".." component'],
      [
        "a .. component inside the path",
        [file("/a/../../x")],
        'layer evil: refused entry "/a/../../x": path has a ".." component',
      ],
      [
        "an absolute path",
        [file("//etc/passwd")],
        'layer evil: refused entry "//etc/passwd": path is absolute',
      ],
      [
        "a relative symlink leaving the root",
        [symlinkTo("a", "../../etc")],
        'layer evil: refused entry "a": symlink to "../../etc" points outside the extraction root',
      ],
      [
        "a relative symlink leaving the root from a subdirectory",
        [dir("/d"), symlinkTo("/d/up", "../../x")],
        'layer evil: refused entry "/d/up": symlink to "../../x" points outside the extraction root',
      ],
      [
        "an absolute symlink leaving the strip root",
        [dir("/layers/bp/node"), symlinkTo("/layers/bp/node/abs", "/etc")],
        'layer evil: refused entry "/layers/bp/node/abs": symlink to "/etc" points outside the extraction root',
        "/layers/bp/node",
      ],
      [
        "an absolute symlink climbing out of the strip root",
        [symlinkTo("/layers/bp/node/abs", "/layers/bp/node/../other")],
        'layer evil: refused entry "/layers/bp/node/abs": symlink to "/layers/bp/node/../other" points outside the extraction root',
        "/layers/bp/node",
      ],
      [
        "a write through a symlink of the tar",
        [symlinkTo("/lnk", "/"), file("/lnk/etc/passwd")],
        'layer evil: refused entry "/lnk/etc/passwd": path goes through the symlink "/lnk"',
      ],
      [
        "a hard link leaving the root",
        [hardlinkTo("/h", "../../etc/passwd")],
        'layer evil: refused entry "/h": hard link to "../../etc/passwd" points outside the extraction root',
      ],
      [
        "a hard link outside the strip root",
        [hardlinkTo("/layers/bp/node/h", "/etc/passwd")],
        'layer evil: refused entry "/layers/bp/node/h": hard link to "/etc/passwd" points outside the extraction root',
        "/layers/bp/node",
      ],
      [
        "a character device",
        [{ header: { name: "/dev/null", type: "character-device", devmajor: 1, devminor: 3 } }],
        'layer evil: refused entry "/dev/null": character device files are not extracted',
      ],
      [
        "a block device",
        [{ header: { name: "/dev/sda", type: "block-device", devmajor: 8, devminor: 0 } }],
        'layer evil: refused entry "/dev/sda": block device files are not extracted',
      ],
    ];
    it.each(cases)("%s", async (_what, entries, message, strip) => {
      const { parent, promise } = await extractEntries(entries, strip ? { strip } : {});
      const err = await promise.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CnbpError);
      expect(err).toMatchObject({ code: "CNBP_LAYER_UNSAFE", message });
      // nothing escaped next to the destination
      expect(await readdir(parent)).toEqual(["root"]);
    });

    it("a write through a symlink already on disk", async () => {
      const parent = await tempDir();
      const dest = path.join(parent, "root");
      await mkdir(dest);
      await symlink(parent, path.join(dest, "pre"));
      const tar = await makeTar([file("/pre/escaped")]);
      await expect(extractLayer(Readable.from([tar]), dest, { label: "evil" })).rejects.toThrow(
        new CnbpError(
          "CNBP_LAYER_UNSAFE",
          'layer evil: refused entry "/pre/escaped": path goes through the symlink "/pre"',
        ),
      );
      expect(await readdir(parent)).toEqual(["root"]);
    });
  });

  it("reports a tar it cannot read", async () => {
    const dest = await tempDir();
    const bad = Buffer.alloc(1024, 7);
    await expect(extractLayer(Readable.from([bad]), dest, { label: "sha256:abc" })).rejects.toMatchObject({
      code: "CNBP_LAYER_READ",
      message:
        "layer sha256:abc: cannot read the tar: Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?",
    });
    const truncated = gzipSync(await makeTar([file("/f", "y".repeat(5000))])).subarray(0, 60);
    await expect(extractLayer(Readable.from([truncated]), dest, { label: "cut" })).rejects.toMatchObject({
      code: "CNBP_LAYER_READ",
      message: "layer cut: cannot read the tar: unexpected end of file",
    });
  });
});
