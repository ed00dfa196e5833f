/**
 * Layouts and oci-archives against real tools: skopeo reads what cnbp writes and writes what cnbp reads,
 * podman runs an image cnbp put together, umoci lists its names.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Descriptor, sha256Digest } from "../oci.js";
import { OciArchive, writeOciArchive } from "./archive.js";
import { OciLayout } from "./layout.js";
import { layerTar, tempDir } from "./test-support/helpers.js";

const run = promisify(execFile);
const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";

// Our CI starts every engine and stack (scripts/bootstrap.sh): a missing one fails these tests, never skips them.
describe("layouts with skopeo, podman and umoci", { timeout: 120_000 }, () => {
  let busyboxDir: string;
  const created: string[] = [];

  beforeAll(async () => {
    busyboxDir = join(await tempDir(), "busybox");
    await run("skopeo", ["copy", "-q", `containers-storage:${BUSYBOX}`, `oci:${busyboxDir}:busybox`]);
  }, 120_000);

  afterAll(async () => {
    for (const ref of created) await run("podman", ["rmi", "--force", ref]).catch(() => undefined);
  });

  it("reads a layout skopeo wrote from containers-storage", async () => {
    const layout = await OciLayout.open(busyboxDir);
    expect((await layout.listImages()).map((e) => e.ref)).toEqual(["busybox"]);
    const image = await layout.readImage("busybox");
    expect(image.config.config?.Labels?.["io.buildpacks.base.distro.name"]).toBe("busybox");
    expect(image.config.os).toBe("linux");
    expect(image.manifest.layers.length).toBe(image.config.rootfs.diff_ids.length);
    expect(await layout.layerPresence(image.manifest)).toEqual(image.manifest.layers.map(() => true));
    for (const layer of image.manifest.layers) {
      expect((await layout.readBlob(layer)).length).toBe(layer.size);
    }
  });

  it("writes an image podman runs: busybox's layers plus a layer made here", async () => {
    const base = await OciLayout.open(busyboxDir);
    const busybox = await base.readImage("busybox");
    const dir = join(await tempDir(), "app");
    const layout = await OciLayout.create(dir);
    for (const layer of busybox.manifest.layers) await layout.copyBlob(base, layer);
    const message = `hello from cnbp ${randomBytes(4).toString("hex")}`;
    const added = await layout.writeLayer(await layerTar({ "cnbp/hello.txt": `${message}\n` }));
    const config = {
      ...busybox.config,
      rootfs: { type: "layers" as const, diff_ids: [...busybox.config.rootfs.diff_ids, added.diffId] },
      history: [...(busybox.config.history ?? []), { created_by: "cnbp layout test" }],
    };
    await layout.writeImage({ config, layers: [...busybox.manifest.layers, added.descriptor], ref: "app:1" });

    // umoci agrees on the names (it reads index.json the spec's way)
    const listed = await run("umoci", ["ls", "--layout", dir]);
    expect(listed.stdout.trim()).toBe("app:1");

    const name = `localhost/cnbp-test-${randomBytes(6).toString("hex")}:1`;
    created.push(name);
    await run("skopeo", ["copy", "-q", `oci:${dir}:app:1`, `containers-storage:${name}`]);
    const { stdout } = await run("podman", [
      "run",
      "--rm",
      "--pull=never",
      "--network=none",
      name,
      "cat",
      "/cnbp/hello.txt",
    ]);
    expect(stdout).toBe(`${message}\n`);
  });

  it("writes an oci-archive skopeo inspects, and reads one skopeo wrote", async () => {
    const base = await OciLayout.open(busyboxDir);
    const busybox = await base.readImage("busybox");
    const out = await tempDir();

    const ours = join(out, "ours.tar");
    await writeOciArchive(base, ours);
    const { stdout } = await run("skopeo", ["inspect", `oci-archive:${ours}`]);
    const inspected = JSON.parse(stdout) as {
      Digest: string;
      Labels: Record<string, string>;
      Layers: string[];
    };
    expect(inspected.Digest).toBe(busybox.descriptor.digest);
    expect(inspected.Labels["io.buildpacks.base.distro.name"]).toBe("busybox");
    expect(inspected.Layers).toEqual(busybox.manifest.layers.map((l: Descriptor) => l.digest));
    const raw = await run("skopeo", ["inspect", "--raw", `oci-archive:${ours}:busybox`]);
    expect(sha256Digest(raw.stdout)).toBe(busybox.descriptor.digest);

    const theirs = join(out, "theirs.tar");
    await run("skopeo", ["copy", "-q", `oci:${busyboxDir}:busybox`, `oci-archive:${theirs}:run`]);
    const archive = await OciArchive.open(theirs);
    const image = await archive.readImage("run");
    expect(image.config.config?.Labels?.["io.buildpacks.base.distro.name"]).toBe("busybox");
    for (const layer of image.manifest.layers)
      expect((await archive.readBlob(layer)).length).toBe(layer.size);
  });
});
