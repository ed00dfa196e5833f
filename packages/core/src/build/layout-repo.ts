/**
 * The OCI layout repository a build exports into when its image goes to the driver's store (platform.md 11:
 * `<layout-dir>/<registry>/<repository>/<tag>`): the run image is written there from the store, the exporter
 * writes the app image beside it, and cnbp imports that into the store. It lives on as long as the image's
 * builds do, so the previous image is there for the next build to reuse layers from; each image's layout is
 * garbage-collected after its build, so it holds one image's blobs.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ImageStore, StoredImage } from "../drivers/contract.js";
import { OciLayout } from "../image/layout/layout.js";
import { parseReference, referenceName } from "../image/reference.js";
import { layoutPath } from "../image/store/layout-backend.js";

/** The repository for builds of `image` into the store named `storeId` (EngineInfo.imageStore). */
export function layoutRepoDir(cacheRoot: string, storeId: string, image: string): string {
  const key = createHash("sha256")
    .update(`${storeId}\n${canonical(image)}`)
    .digest("hex")
    .slice(0, 16);
  return join(cacheRoot, "layouts", key);
}

/** `name` with registry and tag spelt out, so `app` and `index.docker.io/library/app:latest` are one key. */
export function canonical(image: string): string {
  const ref = parseReference(image);
  return `${referenceName(ref)}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? "latest"}`}`;
}

/**
 * Puts the store's image `ref` into the repository, unless the layout there already holds that very image
 * (same config digest); resolves to the image's path in the repository.
 */
export async function stageImage(images: ImageStore, stored: StoredImage, ref: string, repo: string) {
  const dir = layoutPath(repo, ref);
  if ((await layoutConfigDigest(dir)) === stored.id) return dir;
  await rm(dir, { recursive: true, force: true });
  await images.exportOciLayout(stored.id, dir, { name: tagOf(ref) });
  return dir;
}

/** The config digest of the only image of the layout in `dir`, or undefined when there is none. */
export async function layoutConfigDigest(dir: string): Promise<string | undefined> {
  try {
    const layout = await OciLayout.open(dir);
    const { manifest } = await layout.readImage();
    return manifest.config.digest;
  } catch {
    return undefined;
  }
}

/** Imports the exported image into the store under `image` and `tags`, then drops blobs no image uses. */
export async function importExported(
  images: ImageStore,
  repo: string,
  image: string,
  tags: readonly string[],
) {
  const dir = layoutPath(repo, image);
  const stored = await images.importOciLayout(dir, { tag: image });
  for (const tag of tags) {
    await images.tag(image, tag);
    // the exporter wrote each tag's own layout: the store has them now, the repository needs only the image
    await rm(layoutPath(repo, tag), { recursive: true, force: true });
  }
  await (await OciLayout.open(dir)).gc();
  return stored;
}

function tagOf(ref: string): string {
  const parsed = parseReference(ref);
  return parsed.tag ?? "latest";
}
