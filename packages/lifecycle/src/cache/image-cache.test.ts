/**
 * The cache image against the real local registry: saved, read back, saved again with one layer changed
 * (only that layer's bytes go over the wire), and corrupt cache images, which are reported and ignored.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ImageConfig, jsonBytes, Manifest, MediaType, RegistryClient, sha256Digest } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheCorruptError } from "./common.js";
import { ImageCache } from "./image-cache.js";
import { captureLog, collect, makeLayer, removeTempDirs, tempDir } from "./test-support/fixtures.js";

const REGISTRY = "127.0.0.1:5000";
const ns = `${REGISTRY}/cnbp-test/${randomBytes(6).toString("hex")}`;
const METADATA = "io.buildpacks.lifecycle.cache.metadata";
const client = new RegistryClient();
let base: string;

beforeAll(async () => {
  base = await tempDir();
});
afterAll(removeTempDirs);

const layerDir = (name: string) => join(base, "layers", "example_node", name);
const metadataFor = (layers: Record<string, string>) => ({
  buildpacks: [
    {
      key: "example/node",
      version: "1.0.0",
      layers: Object.fromEntries(
        Object.entries(layers).map(([name, sha]) => [
          name,
          { sha, data: { name }, build: false, launch: false, cache: true },
        ]),
      ),
    },
  ],
});

async function readImage(name: string) {
  const manifest = Manifest.parse(JSON.parse((await client.getManifest(name)).bytes.toString()));
  const config = ImageConfig.parse(JSON.parse((await client.getBlob(name, manifest.config)).toString()));
  return { manifest, config };
}

describe("cache image", () => {
  it("is saved with one gzipped layer per cached layer and the metadata label, and read back", async () => {
    const name = `${ns}/cache:latest`;
    const a = await makeLayer(layerDir("a"), { "a.txt": "a".repeat(5000) }, join(base, "a.tar"));
    const b = await makeLayer(layerDir("b"), { "b.txt": "b".repeat(5000) }, join(base, "b.tar.gz"), true);
    const c1 = await makeLayer(layerDir("c1"), { "c.txt": "first" }, join(base, "c1.tar"));
    const { log, err } = captureLog();

    const first = await ImageCache.open(name, client, log);
    expect(first.found).toBe(false);
    expect(first.metadata).toEqual({});
    await first.add("example/node:a", a.tarPath, a.diffId);
    await first.add("example/node:b", b.tarPath, b.diffId);
    await first.add("example/node:c", c1.tarPath, c1.diffId);
    const saved = await first.commit(metadataFor({ a: a.diffId, b: b.diffId, c: c1.diffId }));
    expect(saved.layers.map((l) => [l.key, l.how])).toEqual([
      ["example/node:a", "uploaded"],
      ["example/node:b", "uploaded"],
      ["example/node:c", "uploaded"],
    ]);

    const image = await readImage(name);
    expect(saved.identifier).toBe(`${ns}/cache@${(await client.headManifest(name))?.digest}`);
    expect(image.config.rootfs.diff_ids).toEqual([a.diffId, b.diffId, c1.diffId]);
    expect(image.config.config?.Labels).toEqual({
      [METADATA]: JSON.stringify(metadataFor({ a: a.diffId, b: b.diffId, c: c1.diffId })),
    });
    expect(image.manifest.layers.map((l) => l.mediaType)).toEqual(Array(3).fill(MediaType.ociLayerGzip));
    // the gzipped file went up as it was; the plain tars were gzipped
    expect(image.manifest.layers[1]?.digest).toBe(b.digest);
    expect(saved.layers.map((l) => l.bytes)).toEqual(image.manifest.layers.map((l) => l.size));
    const aBlob = await client.getBlob(name, image.manifest.layers[0] as never);
    expect(gunzipSync(aBlob)).toEqual(await readFile(a.tarPath));

    // read back
    const second = await ImageCache.open(name, client, log);
    expect(second.found).toBe(true);
    expect(second.metadata).toEqual(metadataFor({ a: a.diffId, b: b.diffId, c: c1.diffId }));
    expect(await collect(await second.openLayer(a.diffId, "example/node:a"))).toEqual(
      await readFile(a.tarPath),
    );
    expect(sha256Digest(await collect(await second.openLayer(b.diffId, "example/node:b")))).toBe(b.diffId);

    // save again with c changed: a is reused, b added with the same bytes, and only c's bytes are sent
    const c2 = await makeLayer(layerDir("c2"), { "c.txt": "second" }, join(base, "c2.tar"));
    expect(await second.reuse("example/node:a", a.diffId)).toBe(true);
    await second.add("example/node:b", b.tarPath, b.diffId);
    await second.add("example/node:c", c2.tarPath, c2.diffId);
    const again = await second.commit(metadataFor({ a: a.diffId, b: b.diffId, c: c2.diffId }));
    const after = await readImage(name);
    const cBlob = after.manifest.layers[2];
    expect(again.layers).toEqual([
      { key: "example/node:a", diffId: a.diffId, how: "reused", bytes: 0 },
      { key: "example/node:b", diffId: b.diffId, how: "exists", bytes: 0 },
      { key: "example/node:c", diffId: c2.diffId, how: "uploaded", bytes: cBlob?.size },
    ]);
    const configSize = after.manifest.config.size;
    const manifestSize = (await client.getManifest(name)).size;
    expect(again.bytesWritten).toBe((cBlob?.size ?? 0) + configSize + manifestSize);
    expect(after.config.rootfs.diff_ids).toEqual([a.diffId, b.diffId, c2.diffId]);
    expect(after.manifest.layers.slice(0, 2)).toEqual(image.manifest.layers.slice(0, 2));

    const third = await ImageCache.open(name, client, log);
    expect(third.metadata).toEqual(metadataFor({ a: a.diffId, b: b.diffId, c: c2.diffId }));
    expect(await collect(await third.openLayer(c2.diffId, "example/node:c"))).toEqual(
      await readFile(c2.tarPath),
    );
    expect(err).toEqual([]);
  });

  it("is an image with one empty layer when there is nothing to cache", async () => {
    const name = `${ns}/empty:1`;
    const cache = await ImageCache.open(name, client, captureLog().log);
    await cache.commit({});
    const { manifest, config } = await readImage(name);
    expect(manifest.layers).toHaveLength(1);
    expect(config.rootfs.diff_ids).toEqual([sha256Digest(Buffer.alloc(1024))]);
    expect(config.config?.Labels).toEqual({ [METADATA]: "{}" });
    expect((await ImageCache.open(name, client, captureLog().log)).metadata).toEqual({});
  });

  it("does not trust a cache image with a bad label, nor a layer that is not in it", async () => {
    const a = await makeLayer(layerDir("bad"), { "x.txt": "x" }, join(base, "bad.tar"));
    const name = `${ns}/corrupt:1`;
    await pushCacheImage(name, "{not json");
    const { log, err } = captureLog();
    const corrupt = await ImageCache.open(name, client, log);
    expect(err).toEqual([
      `Warning: cache image ${name} is corrupt, ignoring it: label ${METADATA}: is not valid JSON: Expected property name or '}'`,
    ]);
    expect(corrupt.found).toBe(true);
    expect(corrupt.metadata).toEqual({});

    const unlabelled = `${ns}/unlabelled:1`;
    await pushCacheImage(unlabelled, undefined);
    const second = captureLog();
    await ImageCache.open(unlabelled, client, second.log);
    expect(second.err).toEqual([
      `Warning: cache image ${unlabelled} is corrupt, ignoring it: it has no label ${METADATA}`,
    ]);

    const message = `cache image ${name}: cached layer example/node:a (${a.diffId}) is missing: the image has no such layer`;
    await expect(corrupt.openLayer(a.diffId, "example/node:a")).rejects.toBeInstanceOf(CacheCorruptError);
    await expect(corrupt.openLayer(a.diffId, "example/node:a")).rejects.toThrow(message);
    expect(await corrupt.reuse("example/node:a", a.diffId)).toBe(false);
    expect(err.at(-1)).toBe(`Warning: ${message}: not reusing it`);
  });

  it("refuses a layer whose bytes are not its diffID", async () => {
    const a = await makeLayer(layerDir("liar"), { "x.txt": "x" }, join(base, "liar.tar"));
    const name = `${ns}/liar:1`;
    const cache = await ImageCache.open(name, client, captureLog().log);
    const other = `sha256:${"0".repeat(64)}`;
    await expect(cache.add("example/node:a", a.tarPath, other)).rejects.toThrow(
      `cache image ${name}: layer example/node:a: ${a.tarPath} is not the layer ${other}: its content has diffID ${a.diffId}`,
    );
    // an image whose config names a diffID its layer does not have
    await cache.add("example/node:a", a.tarPath, a.diffId);
    await cache.commit(metadataFor({ a: a.diffId }));
    const { manifest, config } = await readImage(name);
    const lying = { ...config, rootfs: { type: "layers", diff_ids: [other] } };
    const configBytes = jsonBytes({
      ...lying,
      config: { Labels: { [METADATA]: JSON.stringify(metadataFor({ a: other })) } },
    });
    const configDesc = {
      mediaType: MediaType.ociConfig,
      digest: sha256Digest(configBytes),
      size: configBytes.length,
    };
    await client.pushBlob(name, configDesc, configBytes);
    await client.putManifest(name, jsonBytes({ ...manifest, config: configDesc }), MediaType.ociManifest);
    const reopened = await ImageCache.open(name, client, captureLog().log);
    expect(reopened.metadata).toEqual(metadataFor({ a: other }));
    await expect(collect(await reopened.openLayer(other, "example/node:a"))).rejects.toThrow(
      `cache image ${name}: cached layer example/node:a (${other}) is corrupt: its content has diffID ${a.diffId}`,
    );
  });
});

/** A one-layer image with the given cache label (none when undefined), as something else might have pushed. */
async function pushCacheImage(name: string, label: string | undefined) {
  const tar = Buffer.alloc(1024);
  const layer = { mediaType: MediaType.ociLayer, digest: sha256Digest(tar), size: tar.length };
  await client.pushBlob(name, layer, tar);
  const configBytes = jsonBytes({
    architecture: "amd64",
    os: "linux",
    config: label === undefined ? {} : { Labels: { [METADATA]: label } },
    rootfs: { type: "layers", diff_ids: [layer.digest] },
  });
  const config = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  await client.pushBlob(name, config, configBytes);
  await client.putManifest(
    name,
    jsonBytes({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }),
    MediaType.ociManifest,
  );
}
