import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { describe, expect, it } from "vitest";
import { CnbpError } from "../../errors.js";
import { MediaType, sha256Digest } from "../oci.js";
import { ARCHIVE_MTIME, extractOciArchive, OciArchive, writeOciArchive } from "./archive.js";
import { OciLayout } from "./layout.js";
import { config, layerTar, tempDir } from "./test-support/helpers.js";

async function errorOf(p: Promise<unknown>): Promise<CnbpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CnbpError) return err;
    throw err;
  }
  throw new Error("expected a CnbpError");
}

async function headers(file: string): Promise<Header[]> {
  const out: Header[] = [];
  const reader = extract();
  createReadStream(file).pipe(reader as unknown as NodeJS.WritableStream);
  for await (const entry of reader) {
    out.push(entry.header);
    entry.resume();
  }
  return out;
}

async function sampleLayout() {
  const dir = await tempDir();
  const layout = await OciLayout.create(dir);
  const tar = await layerTar({ "cnbp/hello.txt": "hello from the archive\n" });
  const layer = await layout.writeLayer(tar);
  const image = await layout.writeImage({
    config: config([layer.diffId]),
    layers: [layer.descriptor],
    ref: "pkg",
  });
  return { dir, layout, tar, layer, image };
}

describe("oci-archive", () => {
  it("writes a deterministic uncompressed tar: sorted names, fixed mtime, root owner, no user names", async () => {
    const { dir, layout, image } = await sampleLayout();
    const out = await tempDir();
    await writeOciArchive(layout, join(out, "a.tar"));
    await writeOciArchive(dir, join(out, "b.tar"));
    const a = await readFile(join(out, "a.tar"));
    expect(a).toEqual(await readFile(join(out, "b.tar")));

    const entries = await headers(join(out, "a.tar"));
    const blobs = (await layout.listBlobs()).map((d) => `blobs/sha256/${d.slice(7)}`);
    expect(entries.map((h) => h.name)).toEqual([
      "blobs/",
      "blobs/sha256/",
      ...blobs,
      "index.json",
      "oci-layout",
    ]);
    expect(blobs).toContain(`blobs/sha256/${image.descriptor.digest.slice(7)}`);
    for (const h of entries) {
      expect(h).toMatchObject({ uid: 0, gid: 0, uname: "", gname: "", mtime: ARCHIVE_MTIME });
      expect(h.mode).toBe(h.type === "directory" ? 0o755 : 0o644);
    }
    // GNU tar lists it the same way
    const listing = execFileSync("tar", ["-tvf", join(out, "a.tar"), "--numeric-owner"], {
      encoding: "utf8",
    });
    expect(listing).toContain("0/0");
    expect(listing).toContain("1980-01-01 00:00");
    expect((await readFile(join(dir, "index.json"))).toString()).toBe(
      execFileSync("tar", ["-xOf", join(out, "a.tar"), "index.json"], { encoding: "utf8" }),
    );
  });

  it("reads images from an archive, streaming blobs from the tar on demand", async () => {
    const { layout, tar, layer, image } = await sampleLayout();
    const file = join(await tempDir(), "pkg.cnb");
    await writeOciArchive(layout, file);
    const archive = await OciArchive.open(file);
    const read = await archive.readImage("pkg");
    expect(read.manifest).toEqual(image.manifest);
    expect(read.config).toEqual(image.config);
    expect(await archive.listBlobs()).toEqual(await layout.listBlobs());
    expect(await archive.layerPresence(read.manifest)).toEqual([true]);
    const { gunzipSync } = await import("node:zlib");
    expect(gunzipSync(await archive.readBlob(layer.descriptor))).toEqual(tar);

    // and into a directory again
    const copy = await archive.extractTo(join(await tempDir(), "copy"));
    expect((await copy.readImage("pkg")).manifest).toEqual(image.manifest);
    expect(await copy.listBlobs()).toEqual(await layout.listBlobs());
  });

  it("reads a .cnb made by GNU tar (./-prefixed names) and names corrupt blobs inside it", async () => {
    const { dir, layer } = await sampleLayout();
    const file = join(await tempDir(), "gnu.cnb");
    execFileSync("tar", ["--sort=name", "-C", dir, "-cf", file, "."]);
    const archive = await OciArchive.open(file);
    expect((await archive.readImage()).ref).toBe("pkg");

    // damage one byte of the layer blob inside the tar
    const bytes = await readFile(file);
    const original = await archive.readBlob(layer.descriptor);
    const at = bytes.indexOf(original);
    expect(at).toBeGreaterThan(0);
    bytes[at + 20] = (bytes[at + 20] as number) ^ 0xff;
    await writeFile(file, bytes);
    const damaged = Buffer.from(original);
    damaged[20] = (damaged[20] as number) ^ 0xff;
    const err = await errorOf((await OciArchive.open(file)).readBlob(layer.descriptor));
    expect(err.code).toBe("CNBP_BLOB_CORRUPT");
    expect(err.message).toBe(
      `blobs/sha256/${layer.descriptor.digest.slice(7)} in ${file}: content does not match digest ${layer.descriptor.digest}: it hashes to ${sha256Digest(damaged)} (${original.length} bytes)`,
    );
    // writing an archive from a damaged source fails and leaves nothing behind
    const out = join(await tempDir(), "out.tar");
    expect((await errorOf(writeOciArchive(await OciArchive.open(file), out))).code).toBe("CNBP_BLOB_CORRUPT");
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });

  it("refuses compressed files, tars without a layout and missing files", async () => {
    const dir = await tempDir();
    const { dir: layoutDir } = await sampleLayout();
    const tarBytes = execFileSync("tar", ["-C", layoutDir, "-c", "."]);
    await writeFile(join(dir, "gz.tar.gz"), gzipSync(tarBytes));
    const gz = await errorOf(OciArchive.open(join(dir, "gz.tar.gz")));
    expect(gz.code).toBe("CNBP_ARCHIVE_INVALID");
    expect(gz.message).toBe(
      `${join(dir, "gz.tar.gz")}: is gzip-compressed; an oci-archive is an uncompressed tar`,
    );

    await writeFile(join(dir, "plain.tar"), await layerTar({ "x.txt": "x" }));
    const plain = await errorOf(OciArchive.open(join(dir, "plain.tar")));
    expect(plain.code).toBe("CNBP_LAYOUT_NOT_FOUND");
    expect(plain.message).toBe(
      `${join(dir, "plain.tar")}: not an OCI image layout archive (it has no oci-layout file)`,
    );

    await writeFile(join(dir, "junk.tar"), Buffer.alloc(1024, 7));
    expect((await errorOf(OciArchive.open(join(dir, "junk.tar")))).code).toBe("CNBP_ARCHIVE_INVALID");
    expect((await errorOf(extractOciArchive(join(dir, "none.tar"), join(dir, "x")))).code).toBe(
      "CNBP_LAYOUT_NOT_FOUND",
    );
  });

  it("round-trips an empty blob and an image with no layers", async () => {
    const layout = await OciLayout.create(await tempDir());
    const empty = await layout.writeBlob(Buffer.alloc(0), { mediaType: MediaType.ociLayer });
    await layout.writeImage({ config: config([""].slice(1)), layers: [], ref: "empty" });
    const file = join(await tempDir(), "e.tar");
    await writeOciArchive(layout, file);
    const archive = await OciArchive.open(file);
    expect((await archive.readBlob(empty)).length).toBe(0);
    expect((await archive.readImage("empty")).manifest.layers).toEqual([]);
  });
});
