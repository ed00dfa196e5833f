/**
 * OCI layouts in and out of the Docker daemon, which (in 20.10) neither loads nor saves them: an import is a
 * docker-archive tar made on the fly from the layout's own blobs (manifest.json pointing at them, the config
 * unchanged, so the image id is the layout's config digest); an export is `docker save` written as a layout.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CnbpError,
  type Descriptor,
  DriverError,
  type LayoutImage,
  MediaType,
  OciLayout,
  type StoredImage,
} from "@cnbp/core";
import { extract, pack } from "tar-stream";
import { DRIVER_NAME } from "./connection.js";
import { type Engine, engineError, errorOf, followJson } from "./engine.js";

const NOT_FOUND_CODES = new Set(["CNBP_IMAGE_NOT_FOUND", "CNBP_LAYOUT_NOT_FOUND", "CNBP_PLATFORM_NOT_FOUND"]);

/** A layout or engine failure of `operation` as a DriverError (a missing image or layout: CNBP_IMAGE_NOT_FOUND). */
function layoutError(engine: Engine, operation: string, err: unknown): DriverError {
  if (err instanceof DriverError) return err;
  if (err instanceof CnbpError)
    return new DriverError(
      NOT_FOUND_CODES.has(err.code) ? "CNBP_IMAGE_NOT_FOUND" : "CNBP_DRIVER_FAILED",
      DRIVER_NAME,
      operation,
      err.message,
      { ...(err.hints.length ? { hints: err.hints } : {}), cause: err },
    );
  return engineError(engine, operation, err);
}

/** Loads image `selector` (or the only one) of the layout `dir`; resolves to its id, the config digest. */
export async function importLayout(engine: Engine, dir: string, selector?: string): Promise<string> {
  const OP = "images.importOciLayout";
  let layout: OciLayout;
  let image: LayoutImage;
  try {
    layout = await OciLayout.open(dir);
    image = await layout.readImage(selector);
  } catch (err) {
    throw layoutError(engine, OP, err);
  }
  const blobName = (d: Descriptor) => `blobs/sha256/${d.digest.slice("sha256:".length)}`;
  const { config, layers } = image.manifest;
  const archive = pack();
  const writing = (async () => {
    const written = new Set<string>();
    for (const blob of [config, ...layers]) {
      if (written.has(blob.digest)) continue;
      written.add(blob.digest);
      await pipeline(await layout.openBlob(blob), archive.entry({ name: blobName(blob), size: blob.size }));
    }
    const manifest = [{ Config: blobName(config), RepoTags: null, Layers: layers.map(blobName) }];
    archive.entry({ name: "manifest.json" }, JSON.stringify(manifest));
    archive.finalize();
  })().catch((err: unknown) => {
    archive.destroy(err as Error);
    throw err;
  });
  let failure: string | undefined;
  try {
    const loading = engine.docker
      .loadImage(archive as unknown as Readable, { quiet: true })
      .then((response) =>
        followJson(response, (m) => {
          failure ??= errorOf(m);
        }),
      );
    await Promise.all([writing, loading]);
  } catch (err) {
    throw layoutError(engine, OP, err);
  }
  if (failure) throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, `loading ${dir}: ${failure}`);
  return config.digest;
}

/** Writes `img` into the layout `dir` (made when missing) named `name`; index.json changes last. */
export async function exportLayout(
  engine: Engine,
  img: StoredImage,
  dir: string,
  name: string,
): Promise<void> {
  const OP = "images.exportOciLayout";
  const tmp = await mkdtemp(join(tmpdir(), "cnbp-docker-save-"));
  try {
    await extractSave((await engine.docker.getImage(img.id).get()) as Readable, tmp);
    const [saved] = JSON.parse(await readFile(join(tmp, "manifest.json"), "utf8")) as {
      Config: string;
      Layers: string[];
    }[];
    if (!saved) throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, OP, "docker save wrote no image");
    const layout = await OciLayout.create(dir);
    const configDescriptor = await layout.writeBlob(await readFile(await inside(tmp, saved.Config)), {
      mediaType: MediaType.ociConfig,
      digest: img.id as Descriptor["digest"],
    });
    const layers: Descriptor[] = [];
    for (const layer of saved.Layers)
      layers.push(
        await layout.writeBlob(createReadStream(await inside(tmp, layer)), { mediaType: MediaType.ociLayer }),
      );
    const manifest = await layout.writeJson(
      { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor, layers },
      MediaType.ociManifest,
    );
    const platform = { os: img.os, architecture: img.arch, ...(img.variant ? { variant: img.variant } : {}) };
    await layout.addEntry({ ...manifest, platform }, name);
  } catch (err) {
    throw layoutError(engine, OP, err);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** `name` of the save archive as a real path inside `root` (docker save links a repeated layer to its first copy). */
async function inside(root: string, name: string): Promise<string> {
  const path = await realpath(join(root, name));
  if (!path.startsWith(`${await realpath(root)}${sep}`))
    throw new DriverError(
      "CNBP_DRIVER_FAILED",
      DRIVER_NAME,
      "images.exportOciLayout",
      `docker save: ${name} points outside the archive`,
    );
  return path;
}

/** Extracts the files, directories and symlinks of a docker save stream into `root`. */
async function extractSave(saved: Readable, root: string): Promise<void> {
  const ex = extract();
  saved.once("error", (err) => ex.destroy(err));
  saved.pipe(ex);
  for await (const entry of ex) {
    const name = posix.normalize(entry.header.name);
    if (name.startsWith("/") || name.split("/").includes(".."))
      throw new DriverError(
        "CNBP_DRIVER_FAILED",
        DRIVER_NAME,
        "images.exportOciLayout",
        `docker save: unsafe entry ${JSON.stringify(entry.header.name)}`,
      );
    const path = join(root, name);
    if (entry.header.type === "directory") await mkdir(path, { recursive: true });
    else {
      await mkdir(dirname(path), { recursive: true });
      if (entry.header.type === "file") await pipeline(entry, createWriteStream(path));
      else if (entry.header.type === "symlink" && entry.header.linkname)
        await symlink(entry.header.linkname, path);
    }
    entry.resume();
  }
}
