import { createReadStream, readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { normalisePath, readLayer } from "./reader.js";
import { makeTar, removeTempDirs, tempDir } from "./test-support/fixtures.js";
import { writeLayer } from "./writer.js";

afterAll(removeTempDirs);

async function layers(base: string) {
  const app = path.join(base, "workspace");
  await mkdir(app);
  await writeFile(path.join(app, "big.bin"), Buffer.alloc(3 * 1024 * 1024, 1));
  await writeFile(path.join(app, "small.txt"), "small\n");
  const files = [
    await writeLayer(
      [{ kind: "dir", hostDir: app, containerPath: "/workspace", parents: "none" }],
      `${base}/1.tgz`,
    ),
    await writeLayer(
      [
        { kind: "directory", path: "/cnb" },
        { kind: "directory", path: "/cnb/lifecycle" },
        { kind: "file", path: "/cnb/lifecycle/launcher", content: "launcher" },
        { kind: "file", path: "/cnb/lifecycle/lifecycle.toml", content: "[api]\n" },
      ],
      `${base}/2.tar`,
      { gzip: false },
    ),
  ];
  expect(files).toHaveLength(2);
  return [`${base}/1.tgz`, `${base}/2.tar`];
}

describe("layer reader", () => {
  it("finds the layer that holds a path, stopping early", async () => {
    const base = await tempDir();
    const found: string[] = [];
    const files = await layers(base);
    const openFds = () => readdirSync("/proc/self/fd").length;
    const before = openFds();
    for (const file of [...files, ...files]) {
      for await (const e of readLayer(file)) {
        if (e.path === "/cnb/lifecycle/launcher") {
          found.push(`${path.basename(file)}: ${(await e.bytes()).toString()}`);
          break;
        }
      }
    }
    expect(found).toEqual(["2.tar: launcher", "2.tar: launcher"]);
    for await (const e of readLayer(files[0] as string)) {
      expect(e.path).toBe("/workspace"); // stopped while gunzip has megabytes to go
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openFds()).toBe(before); // the files are closed again
  });

  it("skips content left unread or read in part, from a file or a stream", async () => {
    const base = await tempDir();
    const [gz] = await layers(base);
    for (const source of [gz as string, createReadStream(gz as string)]) {
      const seen: string[] = [];
      for await (const e of readLayer(source)) {
        seen.push(`${e.path} ${e.type} ${e.size}`);
        if (e.path === "/workspace/big.bin") {
          for await (const chunk of e.content) {
            expect(chunk.length).toBeGreaterThan(0);
            break; // stop early: the rest is skipped, the tar goes on
          }
        }
        if (e.path === "/workspace/small.txt") expect((await e.bytes()).toString()).toBe("small\n");
      }
      expect(seen).toEqual([
        "/workspace directory 0",
        `/workspace/big.bin file ${3 * 1024 * 1024}`,
        "/workspace/small.txt file 6",
      ]);
    }
    const none = [];
    for await (const e of readLayer(Readable.from([]))) none.push(e);
    expect(none).toEqual([]);
  });

  it("applies PAX records and normalises names", async () => {
    const tar = await makeTar([
      {
        header: {
          name: "./x/",
          type: "directory",
          pax: { uid: "123456789", gid: "7", mtime: "1700000000.5" },
        },
      },
      { header: { name: "x/y", type: "symlink", linkname: "../z", uname: "someone", gname: "group" } },
    ]);
    const entries = [];
    for await (const e of readLayer(Readable.from([tar]), { compression: "none" })) {
      entries.push([e.name, e.path, e.type, e.uid, e.gid, e.mtime.getTime(), e.uname, e.linkname]);
    }
    expect(entries).toEqual([
      ["./x/", "/x", "directory", 123456789, 7, 1700000000500, "", null],
      ["x/y", "/x/y", "symlink", 0, 0, entries[1]?.[5], "someone", "../z"],
    ]);
    expect(normalisePath("./")).toBe("/");
    expect(normalisePath("a//b/./c/")).toBe("/a/b/c");
  });
});
