import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs, tempDir } from "./test-support/fixtures.js";
import { writeLayer } from "./writer.js";

afterAll(removeTempDirs);

// Our CI installs podman and busybox-static (scripts/engines/start.sh): without them this fails, never skips.
const busybox = "/bin/busybox";

describe("a layer in a real engine", () => {
  it("imports as a one-layer image that podman runs", { timeout: 180_000 }, async () => {
    const base = await tempDir();
    const node = path.join(base, "layers", "bp", "node");
    await mkdir(node, { recursive: true });
    await writeFile(path.join(node, "hello.txt"), "hello from a cnbp layer\n", { mode: 0o640 });
    const out = `${base}.tgz`;
    const result = await writeLayer(
      [
        { kind: "directory", path: "/bin" },
        { kind: "file", path: "/bin/busybox", source: busybox, mode: 0o755 },
        { kind: "symlink", path: "/bin/cat", target: "busybox" },
        { kind: "symlink", path: "/bin/stat", target: "/bin/busybox" },
        { kind: "dir", hostDir: node, containerPath: "/layers/bp/node", owner: { uid: 1000, gid: 1001 } },
      ],
      out,
    );
    const image = `localhost/cnbp-layer-test:${process.pid}`;
    const run = (...args: string[]) =>
      execFileSync("podman", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    try {
      run("import", out, image);
      expect(run("run", "--rm", image, "/bin/cat", "/layers/bp/node/hello.txt")).toBe(
        "hello from a cnbp layer\n",
      );
      expect(run("run", "--rm", image, "/bin/stat", "-c", "%u:%g %a", "/layers/bp/node/hello.txt")).toBe(
        "1000:1001 640\n",
      );
      // podman keeps the layer as written: its diffID is ours
      expect(run("image", "inspect", "--format", "{{json .RootFS.Layers}}", image).trim()).toBe(
        JSON.stringify([result.diffId]),
      );
    } finally {
      spawnSync("podman", ["rmi", "--force", image], { stdio: "ignore" });
    }
    expect(spawnSync("podman", ["image", "exists", image]).status).toBe(1);
  });
});
