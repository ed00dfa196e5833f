/**
 * Images read through a runtime driver's image store, as pack reads the daemon's when the builder or package
 * goes there: each is pulled as the pull policy says (`never`: the store's copy or nothing), with the user's
 * credentials for its registry, exported into a staging directory as an OCI layout and read from it.
 */

import { stageImage } from "../../build/layout-repo.js";
import type { ImageStore, PullPolicy } from "../../drivers/contract.js";
import type { SourceImage } from "../../image/index.js";
import { parseReference } from "../../image/reference.js";
import type { Keychain } from "../../image/registry/keychain.js";
import { pullAuth } from "../../image/registry/pull-auth.js";
import { openLayoutImage } from "../../image/store/layout-backend.js";
import { showPlatform } from "../builder/targets.js";
import { type ImageReader, SourceError } from "../context.js";

export function storeImageReader(
  images: ImageStore,
  policy: PullPolicy,
  stagingDir: string,
  storeName: string,
  keychain: Keychain,
): ImageReader {
  return async (ref, platform): Promise<SourceImage | undefined> => {
    let stored: Awaited<ReturnType<ImageStore["pull"]>>;
    try {
      // an image the store already has (if-not-present, never) needs no credentials: look them up only to pull
      const auth = policy === "never" ? undefined : await pullAuth(keychain, ref);
      stored = await images.pull(ref, {
        policy,
        platform: showPlatform(platform),
        ...(auth ? { auth } : {}),
      });
    } catch (err) {
      // by code: a third-party driver's errors come from its own copy of core
      const code = (err as { code?: unknown }).code;
      if (code === "CNBP_REGISTRY_AUTH") throw new SourceError(authRefused(ref, err as Error));
      if (code !== "CNBP_IMAGE_NOT_FOUND") throw err;
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

function authRefused(ref: string, err: Error): string {
  const registry = parseReference(ref).registry;
  return `the registry ${registry} refused to let the image store pull ${ref}: log in to it (docker login ${registry}, or a credential helper in the docker config) or set CNB_REGISTRY_AUTH (${err.message})`;
}
