/**
 * writeSparseRunImage on real OCI layouts: one written with core's layout writer (exact index, manifest,
 * config and blob list), and one Podman built from a run.Dockerfile on the busybox run stack, exported with
 * skopeo.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { OciLayout } from "../image/layout/layout.js";
import { config, layerTar, tempDir } from "../image/layout/test-support/helpers.js";
import { type Descriptor, type Digest, MediaType, sha256Digest } from "../image/oci.js";
import { RESET_USER_HINT } from "./rules.js";
import { chainRebasable, writeSparseRunImage } from "./sparse-run-image.js";

const run = promisify(execFile);
const hex = (digest: string) => digest.slice("sha256:".length);
const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

/** A layout holding "extended": two run image layers (the second named the Docker way) and two added ones. */
async function extendedLayout(
  opts: { user?: string; addedUncompressed?: "ok" | "wrong diffID" | "zstd" } = {},
) {
  const dir = join(await tempDir("cnbp-extended-"), "layout");
  const layout = await OciLayout.create(dir);
  const base1 = await layout.writeLayer(await layerTar({ "etc/os-release": "ID=busybox\n" }));
  const base2 = await layout.writeLayer(await layerTar({ "bin/sh": "#!sh\n" }));
  const toolTar = await layerTar({ "usr/bin/tool": "tool\n" });
  const tool =
    opts.addedUncompressed === "zstd"
      ? {
          descriptor: await layout.writeBlob(Buffer.from("not really zstd"), {
            mediaType: MediaType.ociLayerZstd,
          }),
          diffId: sha256Digest(toolTar),
        }
      : await layout.writeLayer(toolTar, { compression: "none" });
  const lib = await layout.writeLayer(await layerTar({ "usr/lib/libpq.so.5": "lib\n" }));
  const dockerNamed = (d: Descriptor): Descriptor => ({ ...d, mediaType: MediaType.dockerLayerGzip });
  const toolDiffId = opts.addedUncompressed === "wrong diffID" ? sha256Digest("other") : tool.diffId;
  const image = config([base1.diffId, base2.diffId, toolDiffId, lib.diffId], {
    created: "2026-11-30T01:02:03Z",
    config: {
      User: opts.user ?? "1001:1000",
      Env: ["PATH=/usr/bin:/bin"],
      Labels: { "io.buildpacks.base.distro.name": "busybox", "io.buildpacks.rebasable": "true" },
    },
    history: [
      { created: "2026-01-01T00:00:00Z", created_by: "ADD rootfs" },
      { created: "2026-01-01T00:00:00Z", created_by: "COPY sh" },
      { created: "2026-11-30T01:02:03Z", created_by: "ARG base_image", empty_layer: true },
      { created: "2026-11-30T01:02:03Z", created_by: "COPY tool /usr/bin/tool" },
      { created: "2026-11-30T01:02:03Z", created_by: "USER root", empty_layer: true },
      { created: "2026-11-30T01:02:03Z", created_by: "RUN install libpq" },
    ],
  });
  await layout.writeImage({
    config: image,
    layers: [base1.descriptor, dockerNamed(base2.descriptor), tool.descriptor, dockerNamed(lib.descriptor)],
    ref: "extended",
  });
  // another image in the same layout: the extended one is taken by name
  await layout.writeImage({ config: config([base1.diffId]), layers: [base1.descriptor], ref: "other" });
  return { dir, base1, base2, tool, toolTar, lib, image };
}

async function outDir() {
  return join(await tempDir("cnbp-extended-run-"), "extended", "run");
}

describe("writeSparseRunImage", () => {
  it("writes <outDir>/<manifest digest>/ with the config, the manifest and only the added layers, gzipped", async () => {
    const src = await extendedLayout();
    const out = await outDir();
    const written = await writeSparseRunImage({
      extendedLayout: src.dir,
      image: "extended",
      baseLayerCount: 2,
      addedBy: ["example/tools", "example/apt"],
      rebasable: false,
      outDir: out,
    });
    expect(await readdir(out)).toEqual([written.digest]);
    expect(written.dir).toBe(join(out, written.digest));
    const dir = written.dir;

    const index = await readJson(join(dir, "index.json"));
    const entry = index.manifests[0];
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: written.digest,
          size: entry.size,
          platform: { architecture: "amd64", os: "linux" },
        },
      ],
    });
    const manifestBytes = await readFile(join(dir, "blobs/sha256", hex(written.digest)));
    expect(sha256Digest(manifestBytes)).toBe(written.digest);
    expect(manifestBytes.length).toBe(entry.size);
    const manifest = JSON.parse(manifestBytes.toString());
    const toolGz: Descriptor = manifest.layers[2];
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: manifest.config.digest, size: manifest.config.size },
      layers: [
        src.base1.descriptor,
        { ...src.base2.descriptor, mediaType: MediaType.ociLayerGzip },
        { mediaType: MediaType.ociLayerGzip, digest: toolGz.digest, size: toolGz.size },
        { ...src.lib.descriptor, mediaType: MediaType.ociLayerGzip },
      ],
    });

    // the uncompressed layer was compressed: same diff ID, new digest
    const toolBlob = await readFile(join(dir, "blobs/sha256", hex(toolGz.digest)));
    expect(sha256Digest(toolBlob)).toBe(toolGz.digest);
    expect(toolGz.digest).not.toBe(src.tool.descriptor.digest);
    expect(sha256Digest(gunzipSync(toolBlob))).toBe(src.tool.diffId);
    expect(gunzipSync(toolBlob).equals(src.toolTar)).toBe(true);
    // the gzip layer was copied as it was
    expect(sha256Digest(await readFile(join(dir, "blobs/sha256", hex(src.lib.descriptor.digest))))).toBe(
      src.lib.descriptor.digest,
    );

    expect(await readdir(dir)).toEqual(["blobs", "index.json", "oci-layout"]);
    expect(await readJson(join(dir, "oci-layout"))).toEqual({ imageLayoutVersion: "1.0.0" });
    expect((await readdir(join(dir, "blobs/sha256"))).sort()).toEqual(
      [written.digest, manifest.config.digest, toolGz.digest, src.lib.descriptor.digest].map(hex).sort(),
    );

    const configBytes = await readFile(join(dir, "blobs/sha256", hex(manifest.config.digest)));
    expect(sha256Digest(configBytes)).toBe(manifest.config.digest);
    expect(JSON.parse(configBytes.toString())).toEqual({
      architecture: "amd64",
      os: "linux",
      created: "1980-01-01T00:00:01Z",
      config: {
        User: "1001:1000",
        Env: ["PATH=/usr/bin:/bin"],
        Labels: { "io.buildpacks.base.distro.name": "busybox", "io.buildpacks.rebasable": "false" },
      },
      rootfs: { type: "layers", diff_ids: src.image.rootfs.diff_ids },
      history: [
        { created: "2026-01-01T00:00:00Z", created_by: "ADD rootfs" },
        { created: "2026-01-01T00:00:00Z", created_by: "COPY sh" },
        {
          created: "1980-01-01T00:00:01Z",
          created_by: "Layer: 'COPY tool /usr/bin/tool', Created by extension: example/tools",
        },
        {
          created: "1980-01-01T00:00:01Z",
          created_by: "Layer: 'RUN install libpq', Created by extension: example/apt",
        },
      ],
    });
  });

  it("takes the layout's only image when no name is given, and labels it rebasable when the chain is", async () => {
    const dir = join(await tempDir("cnbp-extended-"), "layout");
    const layout = await OciLayout.create(dir);
    const base = await layout.writeLayer(await layerTar({ "etc/os-release": "ID=busybox\n" }));
    const added = await layout.writeLayer(await layerTar({ "usr/bin/tool": "tool\n" }));
    await layout.writeImage({
      config: config([base.diffId, added.diffId], { config: { User: "cnb" } }),
      layers: [base.descriptor, added.descriptor],
    });
    const out = await outDir();
    const written = await writeSparseRunImage({
      extendedLayout: dir,
      baseLayerCount: 1,
      addedBy: ["example/tools"],
      rebasable: true,
      outDir: out,
    });
    const sparse = await (await OciLayout.open(written.dir)).readImage();
    expect(sparse.config.config?.Labels).toEqual({ "io.buildpacks.rebasable": "true" });
    // history did not match the layers: each layer gets an entry, the added ones naming their extension
    expect(sparse.config.history).toEqual([
      {},
      { created: "1980-01-01T00:00:01Z", created_by: "Layer: '', Created by extension: example/tools" },
    ]);
    expect(await (await OciLayout.open(written.dir)).layerPresence(sparse.manifest)).toEqual([false, true]);
  });

  it("refuses a final user root, writing nothing", async () => {
    for (const user of ["0", "root", "0:0", "root:1000"]) {
      const src = await extendedLayout({ user });
      const out = await outDir();
      const error = await writeSparseRunImage({
        extendedLayout: src.dir,
        image: "extended",
        baseLayerCount: 2,
        addedBy: ["example/tools", "example/apt"],
        rebasable: false,
        outDir: out,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CnbpError);
      expect({ ...(error as CnbpError), message: (error as Error).message }).toMatchObject({
        code: "CNBP_EXTENSION_INVALID",
        message: `extended run image: the final user is root (User "${user}"), and the app must not run as root: add another extension that resets the user`,
        hints: [RESET_USER_HINT],
      });
      expect(await readdir(out).catch((e: NodeJS.ErrnoException) => e.code)).toBe("ENOENT");
    }
  });

  it("refuses layers it cannot take, leaving nothing behind in outDir", async () => {
    const failure = async (src: { dir: string }, addedBy = ["example/tools", "example/apt"]) => {
      const out = await outDir();
      const error = await writeSparseRunImage({
        extendedLayout: src.dir,
        image: "extended",
        baseLayerCount: 2,
        addedBy,
        rebasable: false,
        outDir: out,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CnbpError);
      expect(await readdir(out).catch(() => [])).toEqual([]);
      return { code: (error as CnbpError).code, message: (error as Error).message };
    };
    const zstd = await extendedLayout({ addedUncompressed: "zstd" });
    expect(await failure(zstd)).toEqual({
      code: "CNBP_UNSUPPORTED",
      message: `${zstd.dir}: layer ${zstd.tool.descriptor.digest} of the extended run image is ${MediaType.ociLayerZstd}: cnbp takes gzip or uncompressed layers`,
    });
    const wrong = await extendedLayout({ addedUncompressed: "wrong diffID" });
    expect(await failure(wrong)).toEqual({
      code: "CNBP_BLOB_CORRUPT",
      message: `${wrong.dir}: layer ${wrong.tool.descriptor.digest} hashes to ${wrong.tool.diffId}, but the image config lists ${sha256Digest("other")}`,
    });
    const src = await extendedLayout();
    expect(await failure(src, ["example/apt"])).toEqual({
      code: "CNBP_INVALID_IMAGE",
      message: `${src.dir}: the extended run image has 4 layers, not the run image's 2 and 1 added by extensions`,
    });
  });
});

describe("chainRebasable", () => {
  it("is true only when every step's image says io.buildpacks.rebasable is true", () => {
    const label = (value: string) => ({ "io.buildpacks.rebasable": value, other: "x" });
    expect(chainRebasable([])).toBe(true);
    expect(chainRebasable([label("true"), label("True"), label("1"), label("t")])).toBe(true);
    expect(chainRebasable([label("true"), undefined])).toBe(false);
    expect(chainRebasable([label("true"), {}])).toBe(false);
    expect(chainRebasable([label("false"), label("true")])).toBe(false);
    expect(chainRebasable([label("yes")])).toBe(false);
  });
});

// Our CI starts every engine and stack: a missing one fails this test, never skips it.
describe("writeSparseRunImage on an image Podman extended", { timeout: 180_000 }, () => {
  const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";
  const tag = `localhost/cnbp-test/extended-run:${randomBytes(4).toString("hex")}`;
  afterAll(async () => {
    await run("podman", ["rmi", "--force", tag]).catch(() => undefined);
  });

  it("keeps only the layers the run.Dockerfile added, each a gzip blob of its diff ID", async () => {
    const context = await tempDir("cnbp-context-");
    await writeFile(join(context, "tool"), "#!/bin/sh\necho tool\n");
    const dockerfile = join(await tempDir("cnbp-dockerfile-"), "run.Dockerfile");
    await writeFile(
      dockerfile,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile
      "ARG base_image\nFROM ${base_image}\nARG user_id\nARG group_id\nUSER root\nCOPY tool /usr/bin/tool\nRUN chmod 755 /usr/bin/tool\nLABEL io.buildpacks.rebasable=true\nUSER ${user_id}:${group_id}\n",
    );
    const base = JSON.parse((await run("podman", ["image", "inspect", BUSYBOX])).stdout)[0];
    await run("podman", [
      "build",
      "-q",
      "--pull=never",
      "--build-arg",
      `base_image=${BUSYBOX}`,
      "--build-arg",
      "user_id=1001",
      "--build-arg",
      "group_id=1000",
      "-f",
      dockerfile,
      "-t",
      tag,
      context,
    ]);
    const layoutDir = join(await tempDir("cnbp-extended-"), "layout");
    await run("skopeo", ["copy", "-q", `containers-storage:${tag}`, `oci:${layoutDir}:extended`]);
    const extended = await (await OciLayout.open(layoutDir)).readImage("extended");
    const baseLayerCount: number = base.RootFS.Layers.length;
    expect(extended.manifest.layers.length).toBe(baseLayerCount + 2);

    const out = await outDir();
    const written = await writeSparseRunImage({
      extendedLayout: layoutDir,
      image: "extended",
      baseLayerCount,
      addedBy: ["example/tool", "example/tool"],
      rebasable: chainRebasable([extended.config.config?.Labels ?? undefined]),
      outDir: out,
    });
    const sparseLayout = await OciLayout.open(written.dir);
    const sparse = await sparseLayout.readImage();
    expect(sparse.descriptor.digest).toBe(written.digest);
    expect(await sparseLayout.layerPresence(sparse.manifest)).toEqual([
      ...Array.from({ length: baseLayerCount }, () => false),
      true,
      true,
    ]);
    const added = sparse.manifest.layers.slice(baseLayerCount);
    for (const [i, layer] of added.entries()) {
      expect(layer.mediaType).toBe(MediaType.ociLayerGzip);
      const diffId = sparse.config.rootfs.diff_ids[baseLayerCount + i] as Digest;
      expect(
        `sha256:${createHash("sha256")
          .update(gunzipSync(await sparseLayout.readBlob(layer)))
          .digest("hex")}`,
      ).toBe(diffId);
    }
    expect(sparse.config.rootfs.diff_ids).toEqual(extended.config.rootfs.diff_ids);
    expect(sparse.config.config?.User).toBe("1001:1000");
    expect(sparse.config.config?.Labels?.["io.buildpacks.rebasable"]).toBe("true");
    // Buildah's own created_by, in the extender's wrapping
    expect(sparse.config.history?.slice(baseLayerCount).map((h) => h.created_by)).toEqual([
      expect.stringMatching(
        /^Layer: '\/bin\/sh -c #\(nop\) COPY file:[a-f0-9]{64} in \/usr\/bin\/tool ', Created by extension: example\/tool$/,
      ),
      "Layer: '|2 group_id=1000 user_id=1001 /bin/sh -c chmod 755 /usr/bin/tool', Created by extension: example/tool",
    ]);
    expect((await sparseLayout.listBlobs()).length).toBe(4);
  });
});
