/**
 * Images read through a runtime driver's image store, as pack reads the daemon's when the builder or package
 * goes there: each is pulled as the pull policy says (`never`: the store's copy or nothing), exported into a
 * staging directory as an OCI layout and read from it.
 */

import { stageImage } from "../../build/layout-repo.js";
import type { ImageStore, PullPolicy } from "../../drivers/contract.js";
import type { SourceImage } from "../../image/index.js";
import { openLayoutImage } from "../../image/store/layout-backend.js";
import { showPlatform } from "../builder/targets.js";
import { type ImageReader, SourceError } from "../context.js";

export function storeImageReader(
  images: ImageStore,
  policy: PullPolicy,
  stagingDir: string,
  storeName: string,
): ImageReader {
  return async (ref, platform): Promise<SourceImage | undefined> => {
    let stored: Awaited<ReturnType<ImageStore["pull"]>>;
    try {
      stored = await images.pull(ref, { policy, platform: showPlatform(platform) });
    } catch (err) {
      // by code: a third-party driver's errors come from its own copy of core
      if ((err as { code?: unknown }).code !== "CNBP_IMAGE_NOT_FOUND") throw err;
      throw new SourceError(
        policy === "never"
          ? `image ${ref} is not in ${storeName}'s image store (--pull-policy never): pull it first, or give --pull-policy if-not-present`
          : `image ${ref} was not found: ${(err as Error).message}`,
      );
    }
    const dir = await stageImage(images, stored, ref, stagingDir);
    return openLayoutImage(dir, ref);
  };
}
