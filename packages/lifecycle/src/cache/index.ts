/**
 * Layer caches (shared/spec/platform.md 8): a cache directory or a cache image behind one interface. The
 * restorer reads one; the exporter builds the next one with `reuse`/`add` and `commit`s it.
 */
import { RegistryClient } from "@cnbp/core";
import type { Log } from "../log.js";
import type { LayerCache } from "./common.js";
import { DirCache } from "./dir-cache.js";
import { ImageCache } from "./image-cache.js";

export {
  CACHE_METADATA,
  CACHE_WRITE,
  CacheCorruptError,
  type CachedHow,
  type CommitResult,
  type CommittedLayer,
  type LayerCache,
} from "./common.js";
export { DirCache } from "./dir-cache.js";
export { ImageCache } from "./image-cache.js";

export interface CacheOptions {
  /** `-cache-dir` / CNB_CACHE_DIR. */
  readonly cacheDir?: string;
  /** `-cache-image` / CNB_CACHE_IMAGE; wins over cacheDir when both are given, as in the Go lifecycle. */
  readonly cacheImage?: string;
  /** For the cache image (with the platform's keychain and insecure registries); a default one otherwise. */
  readonly client?: RegistryClient;
  readonly log: Log;
}

/** The cache the platform asked for, opened; undefined when it asked for none. */
export async function openCache(options: CacheOptions): Promise<LayerCache | undefined> {
  if (options.cacheImage) {
    return ImageCache.open(options.cacheImage, options.client ?? new RegistryClient(), options.log);
  }
  if (options.cacheDir) return DirCache.open(options.cacheDir, options.log);
  return undefined;
}
