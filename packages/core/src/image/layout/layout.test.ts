import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CnbpError, ValidationError } from "../../errors.js";
import { type Descriptor, type Index, jsonBytes, type Manifest, MediaType, sha256Digest } from "../oci.js";
import { OciLayout } from "./layout.js";
import { BlobCorruptError, BlobNotFoundError } from "./reader.js";
import { config, layerTar, tempDir } from "./test-support/helpers.js";

const hex = (d: string) => d.slice("sha256:".length);

async function errorOf(p: Promise<unknown>): Promise<CnbpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CnbpError) return err;
    throw err;
  }
  throw new Error("expected a CnbpError");
}

async function imageWithTwoLayers(layout: OciLayout, ref = "app:1") {
  const tar1 = await layerTar({ "cnbp/a.txt": "alpha\n" });
  const tar2 = await layerTar({ "cnbp/b.txt": "beta\n" });
  const l1 = await layout.writeLayer(tar1);
  const l2 = await layout.writeLayer(Readable.from([tar2]), { compression: "none" });
  const cfg = config([l1.diffId, l2.diffId]);
  const image = await layout.writeImage({ config: cfg, layers: [l1.descriptor, l2.descriptor], ref });
  return { tar1, tar2, l1, l2, cfg, image };
}

describe("OciLayout files", () => {
  it("creates oci-layout and an empty index.json exactly as the image-layout spec says", async () => {
    const dir = join(await tempDir(), "new");
    await OciLayout.create(dir);
    expect(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(await readFile(join(dir, "oci-layout"), "utf8")).toBe('{"imageLayoutVersion":"1.0.0"}');
    expect(JSON.parse(await readFile(join(dir, "index.json"), "utf8"))).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [],
    });
    expect(await readdir(join(dir, "blobs"))).toEqual(["sha256"]);
    // create on an existing layout opens it, keeping its index
    const layout = await OciLayout.create(dir);
    await layout.writeImage({ config: config([]), layers: [], ref: "empty" });
    expect((await (await OciLayout.create(dir)).listImages()).map((e) => e.ref)).toEqual(["empty"]);
  });

  it("refuses a directory that is not a layout, and an unsupported version", async () => {
    const dir = await tempDir();
    const missing = await errorOf(OciLayout.open(dir));
    expect(missing.code).toBe("CNBP_LAYOUT_NOT_FOUND");
    expect(missing.message).toBe(`${dir}: not an OCI image layout (it has no oci-layout file)`);
    await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
    const version = await errorOf(OciLayout.open(dir));
    expect(version.code).toBe("CNBP_LAYOUT_UNSUPPORTED");
    expect(version.message).toBe(
      `${dir}/oci-layout: imageLayoutVersion "2.0.0" is not supported (cnbp reads 1.x layouts)`,
    );
    await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const noIndex = await errorOf(OciLayout.open(dir));
    expect(noIndex.message).toBe(`${dir}/index.json: missing (an OCI layout needs one)`);
    await writeFile(join(dir, "index.json"), '{"schemaVersion":2,"manifests":[{"digest":"sha256:12"}]}');
    const bad = await errorOf((await OciLayout.open(dir)).index());
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.message).toContain(`${dir}/index.json: manifests[0].mediaType is required`);
  });
});

describe("blobs", () => {
  it("writes from streams and bytes, skips what is there and verifies a stated digest", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const data = Buffer.from("hello blob\n");
    const digest = sha256Digest(data);
    const fromStream = await layout.writeBlob(Readable.from([data.subarray(0, 3), data.subarray(3)]), {
      mediaType: "text/plain",
    });
    expect(fromStream).toEqual({ mediaType: "text/plain", digest, size: data.length });
    expect(await readFile(join(dir, "blobs", "sha256", hex(digest)))).toEqual(data);
    expect(await layout.writeBlob(data)).toEqual({ mediaType: "application/octet-stream", digest, size: 11 });

    // already there with the stated digest: the source is not read
    let read = false;
    const unread = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    expect((await layout.writeBlob(unread, { digest })).digest).toBe(digest);
    expect(read).toBe(false);
    expect(unread.destroyed).toBe(true);

    const other = Buffer.from("something else");
    const wrong = await errorOf(layout.writeBlob(Readable.from([other]), { digest: sha256Digest("nope") }));
    expect(wrong).toBeInstanceOf(BlobCorruptError);
    expect(wrong.code).toBe("CNBP_BLOB_CORRUPT");
    expect(wrong.message).toBe(
      `${dir}/blobs/sha256/${hex(sha256Digest("nope"))}: the content written hashes to ${sha256Digest(other)} (14 bytes), not to the digest stated`,
    );
    const wrongSize = await errorOf(layout.writeBlob(other, { size: 3 }));
    expect(wrongSize.message).toBe(
      `${dir}/blobs/sha256/${hex(sha256Digest(other))}: the content written is 14 bytes, not the 3 stated`,
    );
    // nothing left behind: no temporary files, no blob for the refused content
    expect((await readdir(dir)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
    expect(await layout.listBlobs()).toEqual([digest]);

    // reading back, as a stream and as bytes
    const chunks: Buffer[] = [];
    for await (const c of await layout.openBlob({ mediaType: "text/plain", digest, size: 11 }))
      chunks.push(c);
    expect(Buffer.concat(chunks)).toEqual(data);
    expect(await layout.readBlob(digest)).toEqual(data);
  });

  it("links a file just written into place, and copies it (verified) across filesystems", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(join(dir, "layout"));
    const bytes = Buffer.from("a layer's bytes\n");
    const descriptor = { mediaType: MediaType.ociLayer, digest: sha256Digest(bytes), size: bytes.length };
    const file = join(dir, "layer.tar");
    await writeFile(file, bytes);
    expect(await layout.linkBlob(file, descriptor)).toEqual(descriptor);
    const blob = join(dir, "layout", "blobs", "sha256", hex(descriptor.digest));
    expect((await stat(blob)).ino).toBe((await stat(file)).ino);

    // /dev/shm is another filesystem: no link, a verified copy
    const shm = await mkdtemp("/dev/shm/cnbp-layout-");
    try {
      const other = await OciLayout.create(join(dir, "other"));
      const away = join(shm, "layer.tar");
      await writeFile(away, bytes);
      await other.linkBlob(away, descriptor);
      const copied = join(dir, "other", "blobs", "sha256", hex(descriptor.digest));
      expect(await readFile(copied)).toEqual(bytes);
      expect((await stat(copied)).ino).not.toBe((await stat(away)).ino);
      const lie = { ...descriptor, digest: sha256Digest(Buffer.from("something else")) };
      expect((await errorOf(other.linkBlob(away, lie))).message).toBe(
        `${join(dir, "other")}/blobs/sha256/${hex(lie.digest)}: the content written hashes to ${descriptor.digest} (16 bytes), not to the digest stated`,
      );
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });

  it("names the blob when its content does not match its digest or size", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const data = Buffer.from("layer content that will be damaged");
    const desc = await layout.writeBlob(data, { mediaType: MediaType.ociLayer });
    const file = join(dir, "blobs", "sha256", hex(desc.digest));
    const damaged = Buffer.from(data);
    damaged[0] = "L".charCodeAt(0);
    await writeFile(file, damaged);

    const corrupt = await errorOf(layout.readBlob(desc));
    expect(corrupt).toBeInstanceOf(BlobCorruptError);
    expect(corrupt.code).toBe("CNBP_BLOB_CORRUPT");
    expect(corrupt.message).toBe(
      `${file}: content does not match digest ${desc.digest}: it hashes to ${sha256Digest(damaged)} (${data.length} bytes)`,
    );
    // the stream form fails the same way, after passing the data on
    const stream = await layout.openBlob(desc.digest);
    await expect(async () => {
      for await (const _ of stream);
    }).rejects.toThrow(corrupt.message);

    await truncate(file, 5);
    const short = await errorOf(layout.readBlob(desc));
    expect(short.message).toBe(`${file}: blob is 5 bytes, its descriptor states ${data.length}`);
    await rm(file);
    const gone = await errorOf(layout.readBlob(desc));
    expect(gone).toBeInstanceOf(BlobNotFoundError);
    expect(gone.message).toBe(`${file}: blob ${desc.digest} is not in the layout`);
  });

  it("reports JSON blobs that do not match their schema, naming the blob and the field", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const desc = await layout.writeJson({ schemaVersion: 2, config: {}, layers: [] }, MediaType.ociManifest);
    const err = await errorOf(layout.readManifest(desc));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe(
      `${dir}/blobs/sha256/${hex(desc.digest)}: config.mediaType is required (and 2 more problems)`,
    );
  });
});

describe("images", () => {
  it("round-trips an image: manifest, config and layers come back as written, digests verified", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const { tar1, tar2, l1, l2, cfg, image } = await imageWithTwoLayers(layout);

    expect(l1.diffId).toBe(sha256Digest(tar1));
    expect(l1.descriptor.mediaType).toBe(MediaType.ociLayerGzip);
    expect(gunzipSync(await layout.readBlob(l1.descriptor))).toEqual(tar1);
    expect(l2.descriptor).toEqual({
      mediaType: MediaType.ociLayer,
      digest: sha256Digest(tar2),
      size: tar2.length,
    });
    expect(l2.diffId).toBe(l2.descriptor.digest);

    const configBytes = jsonBytes(cfg);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256Digest(configBytes), size: configBytes.length },
      layers: [l1.descriptor, l2.descriptor],
    };
    const manifestBytes = jsonBytes(manifest);
    expect(image.manifest).toEqual(manifest);
    expect(image.descriptor).toEqual({
      mediaType: MediaType.ociManifest,
      digest: sha256Digest(manifestBytes),
      size: manifestBytes.length,
    });
    expect(await readFile(join(dir, "blobs", "sha256", hex(image.descriptor.digest)))).toEqual(manifestBytes);

    // index.json, exactly
    expect(JSON.parse(await readFile(join(dir, "index.json"), "utf8"))).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: sha256Digest(manifestBytes),
          size: manifestBytes.length,
          annotations: { "org.opencontainers.image.ref.name": "app:1" },
          platform: { architecture: "amd64", os: "linux" },
        },
      ],
    });

    // read back from a freshly opened layout, by name, by digest and as the only image
    const reopened = await OciLayout.open(dir);
    for (const selector of ["app:1", image.descriptor.digest, undefined]) {
      const read = await reopened.readImage(selector);
      expect(read.manifest).toEqual(manifest);
      expect(read.config).toEqual(cfg);
      expect(read.descriptor.digest).toBe(image.descriptor.digest);
    }
    const read = await reopened.readImage("app:1");
    expect(read.ref).toBe("app:1");
    expect(gunzipSync(await reopened.readBlob(read.manifest.layers[0] as Descriptor))).toEqual(tar1);
    expect(await reopened.readBlob(read.manifest.layers[1] as Descriptor)).toEqual(tar2);
    expect(await reopened.layerPresence(read.manifest)).toEqual([true, true]);
    expect(await reopened.listImages()).toEqual([{ ref: "app:1", descriptor: image.entry }]);

    const missing = await errorOf(reopened.readImage("app:2"));
    expect(missing.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(missing.message).toBe(`${dir}: no image "app:2" in the layout`);
    expect(missing.hints).toEqual(["the layout has: app:1"]);
  });

  it("replaces an entry of the same name, removes entries and collects unreachable blobs", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const first = await imageWithTwoLayers(layout, "app:1");
    await layout.writeImage({ config: config([]), layers: [], ref: "other" });
    const tar3 = await layerTar({ "cnbp/c.txt": "gamma\n" });
    const l3 = await layout.writeLayer(tar3);
    const second = await layout.writeImage({
      config: config([first.l1.diffId, l3.diffId]),
      layers: [first.l1.descriptor, l3.descriptor],
      ref: "app:1",
    });
    const images = await layout.listImages();
    expect(images.map((e) => [e.ref, e.descriptor.digest])).toEqual([
      ["app:1", second.descriptor.digest],
      ["other", expect.any(String)],
    ]);

    // app:1's first manifest, its config and its second layer are unreachable now
    const result = await layout.gc();
    expect([...result.removed].sort()).toEqual(
      [first.image.descriptor.digest, first.image.manifest.config.digest, first.l2.descriptor.digest].sort(),
    );
    expect(result.freedBytes).toBeGreaterThan(0);
    expect(await layout.hasBlob(first.l1.descriptor.digest)).toBe(true);
    expect((await layout.readImage("app:1")).manifest.layers).toEqual([first.l1.descriptor, l3.descriptor]);

    expect(await layout.removeEntry("app:1")).toBe(1);
    expect(await layout.removeEntry("app:1")).toBe(0);
    expect((await layout.listImages()).map((e) => e.ref)).toEqual(["other"]);
    await layout.gc();
    const other = await layout.readImage("other");
    expect((await layout.listBlobs()).sort()).toEqual(
      [other.descriptor.digest, other.manifest.config.digest].sort(),
    );
  });

  it("keeps index.json consistent when images are written concurrently", async () => {
    const layout = await OciLayout.create(await tempDir());
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        layout.writeImage({ config: config([], { author: `n${i}` }), layers: [], ref: `img:${i}` }),
      ),
    );
    expect((await layout.listImages()).map((e) => e.ref).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `img:${i}`),
    );
  });

  it("refuses a layer count that does not match the diff IDs, and bad names", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const err = await errorOf(layout.writeImage({ config: config(["sha256:".padEnd(71, "0")]), layers: [] }));
    expect(err.message).toBe(`${dir}: image has 0 layers but its config lists 1 diff IDs`);
    const name = await errorOf(layout.writeImage({ config: config([]), layers: [], ref: "bad name" }));
    expect(name.code).toBe("CNBP_INVALID_REFERENCE");
  });

  it("picks the platform's manifest from a Docker manifest list", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const perArch: Record<string, Descriptor> = {};
    for (const architecture of ["amd64", "arm64"]) {
      const tar = await layerTar({ "arch.txt": `${architecture}\n` });
      const layer = await layout.writeBlob(tar, { mediaType: MediaType.dockerLayerGzip });
      const cfg = await layout.writeJson(
        config([sha256Digest(tar)], { architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) }),
        MediaType.dockerConfig,
      );
      perArch[architecture] = await layout.writeJson(
        { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: cfg, layers: [layer] },
        MediaType.dockerManifest,
      );
    }
    const list: Index = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifestList,
      manifests: [
        { ...(perArch.amd64 as Descriptor), platform: { architecture: "amd64", os: "linux" } },
        { ...(perArch.arm64 as Descriptor), platform: { architecture: "arm64", os: "linux", variant: "v8" } },
      ],
    };
    const listDesc = await layout.writeJson(list, MediaType.dockerManifestList);
    await layout.addEntry(listDesc, "multi:latest");

    const arm = await layout.readImage("multi:latest", { platform: { os: "linux", architecture: "arm64" } });
    expect(arm.descriptor.digest).toBe(perArch.arm64?.digest);
    expect(arm.config.architecture).toBe("arm64");
    expect(arm.entry.digest).toBe(listDesc.digest);
    expect(arm.manifest.mediaType).toBe(MediaType.dockerManifest);
    // a manifest inside the list, by its digest
    const byDigest = await layout.readImage(perArch.arm64?.digest);
    expect(byDigest.config.variant).toBe("v8");
    expect(byDigest.entry.mediaType).toBe(MediaType.dockerManifest);
    const amd = await layout.readImage("multi:latest");
    expect(amd.descriptor.digest).toBe(perArch.amd64?.digest);
    expect(amd.config.architecture).toBe("amd64");
    const v7 = await errorOf(
      layout.readImage("multi:latest", { platform: { os: "linux", architecture: "arm", variant: "v7" } }),
    );
    expect(v7.code).toBe("CNBP_PLATFORM_NOT_FOUND");
    expect(v7.message).toBe(`${dir}: image "multi:latest" has no manifest for linux/arm/v7`);
    expect(v7.hints).toEqual(["it has: linux/amd64, linux/arm64/v8"]);

    // gc walks manifest lists too: nothing is unreachable
    expect((await layout.gc()).removed).toEqual([]);
  });

  it("reads a sparse layout and tells which layer blobs are present", async () => {
    const dir = await tempDir();
    const layout = await OciLayout.create(dir);
    const baseTar = await layerTar({ "base.txt": "base\n" });
    const base = { mediaType: MediaType.ociLayerGzip, digest: sha256Digest("absent base layer"), size: 1234 };
    const ext = await layout.writeLayer(await layerTar({ "ext.txt": "extension\n" }));
    const cfg = config([sha256Digest(baseTar), ext.diffId]);

    const refused = await errorOf(layout.writeImage({ config: cfg, layers: [base, ext.descriptor] }));
    expect(refused.code).toBe("CNBP_BLOB_NOT_FOUND");
    expect(refused.message).toBe(
      `${dir}/blobs/sha256/${hex(base.digest)}: blob ${base.digest} is not in the layout`,
    );

    // as the extender writes <extended>/run/<digest>/: one unnamed manifest, the base layer blob absent
    const written = await layout.writeImage({ config: cfg, layers: [base, ext.descriptor], sparse: true });
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as Index;
    expect(index.manifests).toEqual([
      { ...written.descriptor, platform: { architecture: "amd64", os: "linux" } },
    ]);
    const reopened = await OciLayout.open(dir);
    const read = await reopened.readImage();
    expect(read.manifest.layers).toEqual([base, ext.descriptor]);
    expect(read.config).toEqual(cfg);
    expect(await reopened.layerPresence(read.manifest)).toEqual([false, true]);
    expect((await errorOf(reopened.openBlob(base))).code).toBe("CNBP_BLOB_NOT_FOUND");
    // gc keeps what is reachable and does not mind absent blobs
    expect((await reopened.gc()).removed).toEqual([]);
    expect(
      createHash("sha256")
        .update(await reopened.readBlob(ext.descriptor))
        .digest("hex"),
    ).toBe(hex(ext.descriptor.digest));
  });
});
