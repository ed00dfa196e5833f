/** The labels that mark a build's cache volume, so `cnbp cache list|prune` can find it and say whose it is. */
import { realpath } from "node:fs/promises";
import { canonical } from "../build/layout-repo.js";

/** Valued "build": the volume holds a build's cache (`/cache` of the lifecycle). */
export const CACHE_LABEL = "io.cnbp.cache";
/** The image the cache's builds make, canonical (`registry/repository:tag`). */
export const IMAGE_LABEL = "io.cnbp.image";
/** The app directory the cache's builds read, with symlinks resolved. */
export const APP_LABEL = "io.cnbp.app";

/** The labels of the cache volume of builds of `image` from `appDir`. */
export async function cacheVolumeLabels(image: string, appDir: string): Promise<Record<string, string>> {
  return { [CACHE_LABEL]: "build", [IMAGE_LABEL]: canonical(image), [APP_LABEL]: await realpath(appDir) };
}
