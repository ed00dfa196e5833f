// Needs Podman (scripts/engines/start.sh). Runs on a store of its own, which starts without the helper image.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { readLayer } from "@cnbp/core";
import { oneFileTar } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver, type PodmanDriver } from "./index.js";
import { SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

// the API service in a directory of this file's own, so that it ends with the tests
const serviceDir = await mkdtemp(join(tmpdir(), "cnbp-podman-service-"));
process.env[SERVICE_DIR_ENV] = serviceDir;
afterAll(async () => {
  stopOwnServices();
  await rm(serviceDir, { recursive: true, force: true });
});

let dir: string;
let bin: string;
let driver: PodmanDriver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-podman-helper-test-"));
  bin = join(dir, "podman");
  // vfs: nothing stays mounted, so removing the directory removes the store
  await writeFile(
    bin,
    `#!/bin/sh\nexec podman --root '${dir}/root' --runroot '${dir}/run' --storage-driver vfs "$@"\n`,
  );
  await chmod(bin, 0o755);
  driver = createDriver({ bin });
});

afterAll(async () => {
  await driver?.[Symbol.asyncDispose]();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const store = async (...args: string[]) => (await execa(bin, args)).stdout;

describe("the helper container", () => {
  it("makes the helper image in a store that lacks it, once, and puts and gets files through the helper", async () => {
    expect(await store("images", "--quiet")).toBe("");
    for (const round of [1, 2]) {
      const ws = await driver.workspace({ buildId: `helper-test-${round}`, volumes: [{ name: "data" }] });
      await ws.put("data", "/in", Readable.from([oneFileTar("f.txt", `round ${round}\n`)]));
      const entries: [string, string][] = [];
      for await (const e of readLayer(await ws.get("data", "/in/f.txt")))
        entries.push([e.name, (await e.bytes()).toString()]);
      expect(entries).toEqual([["f.txt", `round ${round}\n`]]);
      await ws.dispose();
      expect(await store("images", "--format", "{{.Repository}}:{{.Tag}}")).toBe(
        "localhost/cnbp-podman/helper:1",
      );
      expect(await store("ps", "--all", "--quiet")).toBe("");
      expect(await store("volume", "ls", "--quiet")).toBe("");
    }
  });
});
