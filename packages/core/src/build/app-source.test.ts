import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appFiles, appTar } from "./app-source.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-app-"));
  for (const f of [
    "index.js",
    "src/a.js",
    "src/lib/b.js",
    "node_modules/x/i.js",
    "docs/readme.md",
    "notes.txt",
  ]) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await writeFile(join(dir, f), f);
  }
  await mkdir(join(dir, "empty"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the app source", () => {
  it("keeps everything, parents before children, in byte order", async () => {
    expect(await appFiles(dir)).toEqual([
      "docs",
      "docs/readme.md",
      "empty",
      "index.js",
      "node_modules",
      "node_modules/x",
      "node_modules/x/i.js",
      "notes.txt",
      "src",
      "src/a.js",
      "src/lib",
      "src/lib/b.js",
    ]);
  });

  it("drops what exclude matches, gitignore style", async () => {
    expect(await appFiles(dir, { exclude: ["node_modules/", "*.md", "/notes.txt"] })).toEqual([
      "docs",
      "empty",
      "index.js",
      "src",
      "src/a.js",
      "src/lib",
      "src/lib/b.js",
    ]);
  });

  it("keeps only what include matches, with the directories that lead to it", async () => {
    expect(await appFiles(dir, { include: ["src/", "index.js", "b.js"] })).toEqual([
      "index.js",
      "src",
      "src/a.js",
      "src/lib",
      "src/lib/b.js",
    ]);
    expect(await appFiles(dir, { include: ["b.js"] })).toEqual(["src", "src/lib", "src/lib/b.js"]);
  });

  it("refuses a path that is not a directory, saying which flag sets it", async () => {
    await expect(appFiles(join(dir, "index.js"))).rejects.toMatchObject({
      code: "CNBP_APP_NOT_FOUND",
      message: `app directory ${join(dir, "index.js")} does not exist or is not a directory`,
      hints: ["give the app's source directory with --path (default: the current directory)"],
    });
  });

  it("tars the kept entries relative to the app root, owned by the build user", async () => {
    const entries: object[] = [];
    const reading = extract();
    reading.on("entry", (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c) => chunks.push(Buffer.from(c as Uint8Array)));
      stream.on("end", () => {
        entries.push({
          name: h.name,
          type: h.type,
          uid: h.uid,
          gid: h.gid,
          body: Buffer.concat(chunks).toString(),
        });
        next();
      });
    });
    await pipeline(appTar(dir, ["src", "src/a.js"], { uid: 1000, gid: 1001 }), reading);
    expect(entries).toEqual([
      { name: "./", type: "directory", uid: 1000, gid: 1001, body: "" },
      { name: "src", type: "directory", uid: 1000, gid: 1001, body: "" },
      { name: "src/a.js", type: "file", uid: 1000, gid: 1001, body: "src/a.js" },
    ]);
  });
});
