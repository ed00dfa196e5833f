/**
 * `cnbp cache prune`: removes chosen cache volumes, and the layout repositories and extended images of the
 * images no remaining cache builds.
 */
import { rm } from "node:fs/promises";
import { pruneExtendedImages } from "../build/extended-images.js";
import { canonical } from "../build/layout-repo.js";
import type { RuntimeDriver } from "../drivers/contract.js";
import { DriverError } from "../drivers/errors.js";
import { type BuildCache, type LayoutRepo, listCaches } from "./caches.js";

/** Which caches go: all of them, or those of one image and/or older than an age (both must hold). */
export type PruneSelection =
  | { readonly all: true }
  | { readonly all?: false; readonly image?: string; readonly olderThanMs?: number };

export interface PruneRequest {
  readonly selection: PruneSelection;
  /** Where build.ts keeps layout repositories. */
  readonly cacheRoot: string;
  /** Say what would go, remove nothing. */
  readonly dryRun?: boolean;
  /** Now, for ages; default the clock's. */
  readonly now?: number;
}

export interface PruneReport {
  readonly dryRun: boolean;
  /** Cache volumes removed (or that would be). */
  readonly removed: readonly BuildCache[];
  /** Layout repositories removed (or that would be): those whose image has no cache left. */
  readonly layoutRepos: readonly (LayoutRepo & { readonly image: string })[];
  /** Chosen caches kept because a container uses them (a build is running on them). */
  readonly inUse: readonly BuildCache[];
  /** Extended images removed (or that would be): those the builds of an image with no cache left kept. */
  readonly extendedImages: readonly string[];
}

export async function pruneCaches(driver: RuntimeDriver, req: PruneRequest): Promise<PruneReport> {
  const caches = await listCaches(driver, req.cacheRoot);
  const chosen = caches.filter(selects(req.selection, req.now ?? Date.now()));
  const dryRun = req.dryRun ?? false;
  const removed: BuildCache[] = [];
  const inUse: BuildCache[] = chosen.filter((c) => c.inUse === true);
  for (const cache of chosen.filter((c) => c.inUse !== true)) {
    if (!dryRun)
      try {
        await driver.volumes.remove(cache.volume);
      } catch (err) {
        // a build started on it since it was listed
        if (err instanceof DriverError && err.code === "CNBP_VOLUME_IN_USE") {
          inUse.push(cache);
          continue;
        }
        throw err;
      }
    removed.push(cache);
  }
  const layoutRepos = new Map<string, LayoutRepo & { image: string }>();
  for (const cache of removed) {
    const { image, layoutRepo } = cache;
    if (!image || !layoutRepo || layoutRepos.has(layoutRepo.dir)) continue;
    // another cache of the image, from another app dir or kept in use, still builds into this repository
    if (caches.some((c) => c.image === image && !removed.includes(c))) continue;
    layoutRepos.set(layoutRepo.dir, { ...layoutRepo, image });
  }
  if (!dryRun) for (const dir of layoutRepos.keys()) await rm(dir, { recursive: true, force: true });
  const extendedImages: string[] = [];
  // extended images this driver's store holds: made by it or by a build driver sharing its store
  const builders = [driver.name, ...driver.capabilities.sharesImageStoreWith];
  for (const image of new Set(removed.flatMap((c) => (c.image ? [c.image] : []))))
    if (!caches.some((c) => c.image === image && !removed.includes(c)))
      extendedImages.push(
        ...(await pruneExtendedImages(req.cacheRoot, builders, image, driver.images, dryRun)),
      );
  return { dryRun, removed, layoutRepos: [...layoutRepos.values()], inUse, extendedImages };
}

function selects(selection: PruneSelection, now: number): (cache: BuildCache) => boolean {
  if (selection.all) return () => true;
  const image = selection.image !== undefined ? canonical(selection.image) : undefined;
  const { olderThanMs } = selection;
  return (c) =>
    (image === undefined || c.image === image) &&
    (olderThanMs === undefined || (c.createdAt !== undefined && now - Date.parse(c.createdAt) > olderThanMs));
}
