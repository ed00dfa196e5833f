// Needs Podman (scripts/engines/start.sh).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Descriptor, type ImageConfig, OciLayout } from "@cnbp/core";
import { oneFileTar } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { PodmanImages } from "./images.js";
import { loadLayoutImage } from "./layout-load.js";
import { SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

const RUN = `layout-load-${randomBytes(4).toString("hex")}`;
const cli = { bin: "podman" };
const made: string[] = [];
// a service directory of the run's own, so that the service ends with the tests
const serviceDir = await mkdtemp(join(tmpdir(), "cnbp-podman-service-"));
process.env[SERVICE_DIR_ENV] = serviceDir;
const ids: string[] = [];

afterAll(async () => {
  if (ids.length) await execa("podman", ["rmi", "--force", ...ids], { reject: false });
  for (const dir of made) await rm(dir, { recursive: true, force: true });
  stopOwnServices();
  await rm(serviceDir, { recursive: true, force: true });
});

/** A layout holding one image, named "img", of one layer per content; its id and the layers' diff ids. */
async function layoutOf(...contents: (string | Buffer)[]) {
  const dir = await mkdtemp(join(tmpdir(), "cnbp-layout-load-"));
  made.push(dir);
  const layout = await OciLayout.create(dir);
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const content of contents) {
    const { descriptor, diffId } = await layout.writeLayer(oneFileTar("file", content));
    layers.push(descriptor);
    diffIds.push(diffId);
  }
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    config: { Labels: { "io.cnbp.test": RUN } },
    rootfs: { type: "layers", diff_ids: diffIds as ImageConfig["rootfs"]["diff_ids"] },
  };
  const id = (await layout.writeImage({ config, layers, ref: "img" })).manifest.config.digest;
  ids.push(id);
  return { dir, id, diffIds };
}

describe("loading a layout's image through the API", () => {
  it("imports a rebuilt image without skopeo, keeping its id and moving the tag from the previous image", async () => {
    const tag = `localhost/${RUN}/rebuilt:1`;
    const base = `base ${RUN}\n`;
    const v1 = await layoutOf(base, `app v1 ${RUN}\n`);
    const v2 = await layoutOf(base, `app v2 ${RUN}\n`);
    await new PodmanImages(cli).importOciLayout(v1.dir, { tag, image: "img" });
    const noSkopeo = new PodmanImages(cli, "/nonexistent/skopeo");
    const stored = await noSkopeo.importOciLayout(v2.dir, { tag, image: "img" });
    expect(stored.id).toBe(v2.id);
    expect(stored.tags).toEqual([tag]);
    expect(stored.diffIds).toEqual(v2.diffIds);
    expect((await noSkopeo.inspect(v1.id))?.tags).toEqual([]);
  });

  it("loads nothing when the layout's image is the one the tag names (a rebuild with nothing changed)", async () => {
    const tag = `localhost/${RUN}/same:1`;
    const v1 = await layoutOf(`same ${RUN}\n`);
    const images = new PodmanImages(cli);
    const first = await images.importOciLayout(v1.dir, { tag, image: "img" });
    expect(await loadLayoutImage(cli, v1.dir, { tag, image: "img" }, first)).toBe("unchanged");
    const again = await new PodmanImages(cli, "/nonexistent/skopeo").importOciLayout(v1.dir, {
      tag,
      image: "img",
    });
    expect(again).toEqual(first);
  });

  it("sends no layer said to be in the store: when one is not, the load fails and leaves no image", async () => {
    const tag = `localhost/${RUN}/partial:1`;
    const { dir, id, diffIds } = await layoutOf(`one ${RUN}\n`, `two ${RUN}\n`);
    const images = new PodmanImages(cli);
    expect(
      await loadLayoutImage(
        cli,
        dir,
        { tag, image: "img" },
        { id: "sha256:none", diffIds: [diffIds[0] as string] },
      ),
    ).toBeUndefined();
    expect(await images.inspect(tag)).toBeUndefined();
    expect(await images.inspect(id)).toBeUndefined();
    expect(await loadLayoutImage(cli, dir, { tag, image: "img" }, { id: "sha256:none", diffIds: [] })).toBe(
      "loaded",
    );
    expect((await images.inspect(tag))?.id).toBe(id);
  });

  it("names a short tag as skopeo does, and leaves more than 16 MB of layers to skopeo", async () => {
    const short = `${RUN}-short`;
    const small = await layoutOf(`small ${RUN}\n`);
    const images = new PodmanImages(cli);
    expect(await loadLayoutImage(cli, small.dir, { tag: short }, { id: "sha256:none", diffIds: [] })).toBe(
      "loaded",
    );
    expect((await images.inspect(small.id))?.tags).toEqual([`docker.io/library/${short}:latest`]);
    const big = await layoutOf(randomBytes(17 * 1024 * 1024));
    const tag = `localhost/${RUN}/big:1`;
    expect(await loadLayoutImage(cli, big.dir, { tag }, { id: "sha256:none", diffIds: [] })).toBeUndefined();
    expect(await images.inspect(big.id)).toBeUndefined();
  });
});
