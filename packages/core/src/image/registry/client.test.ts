import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageConfig, Index, jsonBytes, Manifest, MediaType, sha256Digest } from "../oci.js";
import { RegistryClient } from "./client.js";
import type { Keychain } from "./keychain.js";
import { blob, errorOf, randomBlob, randomImage, randomRepo, type TestImage } from "./test-support/images.js";
import { type FaultProxy, REGISTRY, startProxy, tempDir } from "./test-support/servers.js";

const anonymous: Keychain = { resolve: async () => undefined };
const client = () => new RegistryClient({ keychain: anonymous, retryDelayMs: 1 });
const RUN_IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;

async function pushImage(c: RegistryClient, ref: string, image: TestImage, mountFrom?: string[]) {
  const results = [];
  for (const b of [...image.layers, image.config]) {
    results.push(await c.pushBlob(ref, b.descriptor, b.bytes, mountFrom ? { mountFrom } : {}));
  }
  const digest = await c.putManifest(ref, image.manifest, MediaType.ociManifest);
  return { results, digest };
}

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pulling from a registry", () => {
  it("gets busybox-run's manifest by tag and by digest, its config and a layer, all checked", async () => {
    const c = client();
    const byTag = await c.getManifest(RUN_IMAGE);
    expect(byTag.mediaType).toBe(MediaType.ociManifest);
    expect(byTag.digest).toBe(sha256Digest(byTag.bytes));
    expect(byTag.size).toBe(byTag.bytes.length);
    const head = await c.headManifest(RUN_IMAGE);
    expect(head).toEqual({ mediaType: byTag.mediaType, digest: byTag.digest, size: byTag.size });

    const byDigest = await c.getManifest(`${REGISTRY}/cnbp-stacks/busybox-run@${byTag.digest}`);
    expect(byDigest.bytes.equals(byTag.bytes)).toBe(true);

    const manifest = Manifest.parse(JSON.parse(byTag.bytes.toString()));
    const configBytes = await c.getBlob(RUN_IMAGE, manifest.config);
    expect(sha256Digest(configBytes)).toBe(manifest.config.digest);
    const config = ImageConfig.parse(JSON.parse(configBytes.toString()));
    expect(config.rootfs.diff_ids).toHaveLength(manifest.layers.length);

    // the biggest layer, streamed to a file
    const layer = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
    if (!layer) throw new Error("busybox-run has no layers");
    const progress: number[] = [];
    const stream = await c.openBlob(RUN_IMAGE, layer, { onProgress: (n) => progress.push(n) });
    const file = join(dir, "layer.tgz");
    await pipeline(stream, createWriteStream(file));
    const onDisk = await readFile(file);
    expect(onDisk.length).toBe(layer.size);
    expect(`sha256:${createHash("sha256").update(onDisk).digest("hex")}`).toBe(layer.digest);
    expect(progress.at(-1)).toBe(layer.size);
  });

  it("says an image that is not there is not found; HEAD says undefined", async () => {
    const c = client();
    const repo = randomRepo("nothing");
    const err = await errorOf(c.getManifest(`${REGISTRY}/${repo}:1.0`));
    expect(err.code).toBe("CNBP_REGISTRY_IMAGE_NOT_FOUND");
    expect(err.message).toBe(`${REGISTRY}/${repo}:1.0: image not found`);
    expect(await c.headManifest(`${REGISTRY}/${repo}:1.0`)).toBeUndefined();
    expect(await c.checkReadAccess(`${REGISTRY}/${repo}:1.0`)).toBe(false);
    expect(await c.checkReadAccess(RUN_IMAGE)).toBe(true);
  });

  it("says a blob that is not there is not found", async () => {
    const missing = sha256Digest("no such blob");
    const err = await errorOf(client().openBlob(RUN_IMAGE, missing));
    expect(err.code).toBe("CNBP_REGISTRY_BLOB_NOT_FOUND");
    expect(err.message).toBe(`${RUN_IMAGE}: blob ${missing} not found`);
    expect(await client().hasBlob(RUN_IMAGE, missing)).toBe(false);
  });

  it("refuses digests it cannot check", async () => {
    const err = await errorOf(
      client().getManifest(`${REGISTRY}/cnbp-stacks/busybox-run@sha512:${"a".repeat(128)}`),
    );
    expect(err.code).toBe("CNBP_REGISTRY_UNSUPPORTED_DIGEST");
    expect(err.message).toBe(
      `${REGISTRY}/cnbp-stacks/busybox-run@sha512:${"a".repeat(128)}: digest "sha512:${"a".repeat(128)}" is not supported (only sha256:<64 hex digits>)`,
    );
  });
});

describe("pushing to a registry", () => {
  it("pushes blobs and a manifest, pulls them back, and a second push sends 0 bytes", async () => {
    const c = client();
    const ref = `${REGISTRY}/${randomRepo()}:1`;
    const image = randomImage();
    const first = await pushImage(c, ref, image);
    expect(first.digest).toBe(image.manifestDigest);
    expect(first.results.map((r) => r.how)).toEqual(["uploaded", "uploaded", "uploaded"]);
    const total = [...image.layers, image.config].reduce((n, b) => n + b.bytes.length, 0);
    expect(first.results.reduce((n, r) => n + r.uploaded, 0)).toBe(total);

    const pulled = await c.getManifest(ref);
    expect(pulled.digest).toBe(image.manifestDigest);
    expect(pulled.bytes.equals(image.manifest)).toBe(true);
    for (const b of [...image.layers, image.config]) {
      expect((await c.getBlob(ref, b.descriptor)).equals(b.bytes)).toBe(true);
    }

    const second = await pushImage(c, ref, image);
    expect(second.results.map((r) => r.how)).toEqual(["exists", "exists", "exists"]);
    expect(second.results.reduce((n, r) => n + r.uploaded, 0)).toBe(0);
  });

  it("pushes a manifest by digest and an index by tag", async () => {
    const c = client();
    const repo = randomRepo();
    const image = randomImage([10]);
    for (const b of [...image.layers, image.config])
      await c.pushBlob(`${REGISTRY}/${repo}`, b.descriptor, b.bytes);
    const digest = await c.putManifest(
      `${REGISTRY}/${repo}@${image.manifestDigest}`,
      image.manifest,
      MediaType.ociManifest,
    );
    expect(digest).toBe(image.manifestDigest);
    const index = jsonBytes({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest,
          size: image.manifest.length,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    });
    await c.putManifest(`${REGISTRY}/${repo}:multi`, index, MediaType.ociIndex);
    const got = await c.getManifest(`${REGISTRY}/${repo}:multi`);
    expect(got.mediaType).toBe(MediaType.ociIndex);
    expect(Index.parse(JSON.parse(got.bytes.toString())).manifests[0]?.digest).toBe(digest);

    const wrong = await errorOf(
      c.putManifest(`${REGISTRY}/${repo}@${sha256Digest("other")}`, image.manifest, MediaType.ociManifest),
    );
    expect(wrong.code).toBe("CNBP_REGISTRY_DIGEST_MISMATCH");
    expect(wrong.message).toBe(
      `${REGISTRY}/${repo}@${sha256Digest("other")}: the manifest to push has digest ${image.manifestDigest}, not the reference's ${sha256Digest("other")}`,
    );
  });

  it("mounts blobs from another repository instead of uploading them", async () => {
    const c = client();
    const base = `${REGISTRY}/${randomRepo("base")}:1`;
    const image = randomImage();
    await pushImage(c, base, image);
    const app = `${REGISTRY}/${randomRepo("app")}:1`;
    const { results } = await pushImage(c, app, image, [base]);
    expect(results.map((r) => r.how)).toEqual(["mounted", "mounted", "mounted"]);
    expect(results.map((r) => r.uploaded)).toEqual([0, 0, 0]);
    expect(results[0]?.mountedFrom).toBe(base.slice(REGISTRY.length + 1, -2));
    for (const b of image.layers) expect(await c.hasBlob(app, b.descriptor.digest)).toBe(true);
    expect((await c.getManifest(app)).digest).toBe(image.manifestDigest);
  });

  it("uploads a blob the mount source lacks through the session the mount opened", async () => {
    const c = client();
    const b = randomBlob(5_000);
    const ref = `${REGISTRY}/${randomRepo()}`;
    const result = await c.pushBlob(ref, b.descriptor, b.bytes, {
      mountFrom: [`${REGISTRY}/${randomRepo("empty")}`],
    });
    expect(result).toMatchObject({ how: "uploaded", uploaded: 5_000 });
    expect((await c.getBlob(ref, b.descriptor)).equals(b.bytes)).toBe(true);
  });

  describe("through a proxy that records requests", () => {
    let proxy: FaultProxy;
    beforeAll(async () => {
      proxy = await startProxy();
    });
    afterAll(async () => {
      await proxy.close();
    });

    it("uploads in chunks (PATCH with Content-Range, then PUT) when told to, from a file", async () => {
      const c = client();
      const ref = `${proxy.host}/${randomRepo()}`;
      const b = randomBlob(300_000);
      const file = join(dir, "blob");
      await writeFile(file, b.bytes);
      proxy.requests.length = 0;
      const result = await c.pushBlob(
        ref,
        b.descriptor,
        () => createReadStream(file, { highWaterMark: 10_000 }),
        {
          upload: "chunked",
          chunkSize: 64 * 1024,
        },
      );
      expect(result).toMatchObject({ how: "uploaded", uploaded: 300_000 });
      const uploads = proxy.requests.filter((r) => r.method !== "HEAD" && r.method !== "GET");
      expect(uploads.map((r) => r.method)).toEqual([
        "POST",
        "PATCH",
        "PATCH",
        "PATCH",
        "PATCH",
        "PATCH",
        "PUT",
      ]);
      expect(uploads.filter((r) => r.method === "PATCH").map((r) => r.headers["content-range"])).toEqual([
        "0-65535",
        "65536-131071",
        "131072-196607",
        "196608-262143",
        "262144-299999",
      ]);
      expect(uploads.at(-1)?.headers["content-length"]).toBe("0");
      expect(uploads.at(-1)?.path).toContain(`digest=${encodeURIComponent(b.descriptor.digest)}`);
      expect((await c.getBlob(ref, b.descriptor)).equals(b.bytes)).toBe(true);
    });

    it("chooses chunks by size: one PUT up to the threshold, chunks above it", async () => {
      const c = new RegistryClient({ keychain: anonymous, chunkThreshold: 50_000, chunkSize: 40_000 });
      const ref = `${proxy.host}/${randomRepo()}`;
      const small = randomBlob(50_000);
      const large = randomBlob(50_001);
      proxy.requests.length = 0;
      await c.pushBlob(ref, small.descriptor, small.bytes);
      expect(proxy.requests.map((r) => r.method)).toEqual(["HEAD", "POST", "PUT"]);
      expect(proxy.requests[2]?.headers["content-length"]).toBe("50000");
      proxy.requests.length = 0;
      await c.pushBlob(ref, large.descriptor, large.bytes);
      expect(proxy.requests.map((r) => r.method)).toEqual(["HEAD", "POST", "PATCH", "PATCH", "PUT"]);
    });

    it("HEADs a blob first and never uploads one the registry has", async () => {
      const c = client();
      const ref = `${proxy.host}/${randomRepo()}`;
      const b = randomBlob(1_000);
      await c.pushBlob(ref, b.descriptor, b.bytes);
      proxy.requests.length = 0;
      const again = await c.pushBlob(ref, b.descriptor, b.bytes);
      expect(again).toEqual({ digest: b.descriptor.digest, size: 1_000, how: "exists", uploaded: 0 });
      expect(proxy.requests.map((r) => r.method)).toEqual(["HEAD"]);
    });
  });

  it("refuses to push content that does not match its digest, and the registry never gets it", async () => {
    const c = client();
    const ref = `${REGISTRY}/${randomRepo()}:1`;
    const b = randomBlob(1_000);
    const other = Buffer.from(b.bytes);
    other[500] = (other[500] ?? 0) ^ 0xff;
    for (const upload of ["monolithic", "chunked"] as const) {
      const err = await errorOf(c.pushBlob(ref, b.descriptor, other, { upload, chunkSize: 300 }));
      expect(err.code).toBe("CNBP_REGISTRY_DIGEST_MISMATCH");
      expect(err.message).toBe(
        `${ref}: blob ${b.descriptor.digest} given to push is corrupt: its content has digest ${sha256Digest(other)}`,
      );
    }
    const short = await errorOf(c.pushBlob(ref, b.descriptor, b.bytes.subarray(0, 900)));
    expect(short.message).toBe(
      `${ref}: blob ${b.descriptor.digest} given to push is corrupt: the source ended after 900 bytes, its descriptor states 1000`,
    );
    expect(await c.hasBlob(ref, b.descriptor.digest)).toBe(false);
  });

  it("pushes an empty blob", async () => {
    const c = client();
    const ref = `${REGISTRY}/${randomRepo()}`;
    const empty = blob(Buffer.alloc(0));
    for (const upload of ["chunked", "monolithic"] as const) {
      const r = await c.pushBlob(`${ref}-${upload}`, empty.descriptor, empty.bytes, { upload });
      expect(r).toMatchObject({ how: "uploaded", uploaded: 0 });
      expect((await c.getBlob(`${ref}-${upload}`, empty.descriptor)).length).toBe(0);
    }
  });

  it("checks write access by opening and cancelling an upload", async () => {
    expect(await client().checkWriteAccess(`${REGISTRY}/${randomRepo()}:1`)).toBe(true);
  });
});
