/**
 * Images between two drivers' stores. Drivers that share a store (Buildah and Podman, or one driver for both
 * jobs) see each other's images by reference; otherwise an image moves as an OCI layout (DESIGN.md "Plugin
 * contracts"): exported from one store into a scratch directory and imported into the other.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Driver, ImageStore, StoredImage } from "../drivers/contract.js";

/** Whether an image one of the drivers stores is in the other's store too. */
export function sharesStore(a: Driver, b: Driver): boolean {
  return (
    a === b ||
    a.name === b.name ||
    a.capabilities.sharesImageStoreWith.includes(b.name) ||
    b.capabilities.sharesImageStoreWith.includes(a.name)
  );
}

/** Copies the image `ref` of `from` into `to` under `tag`, through a layout under `scratch`. */
export async function moveImage(
  from: ImageStore,
  to: ImageStore,
  ref: string,
  tag: string,
  scratch: string,
): Promise<StoredImage> {
  const dir = await mkdtemp(join(scratch, "move-"));
  try {
    await from.exportOciLayout(ref, dir, { name: "moving" });
    return await to.importOciLayout(dir, { tag, image: "moving" });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
