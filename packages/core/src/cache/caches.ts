/**
 * The build caches a runtime driver holds: cache volumes labelled by `cnbp build` (labels.ts), each with the
 * layout repository (build/layout-repo.ts) that builds of its image keep in the cache directory.
 */

import { layoutRepoDir } from "../build/layout-repo.js";
import type { RuntimeDriver } from "../drivers/contract.js";
import { diskUsage } from "./disk-usage.js";
import { APP_LABEL, CACHE_LABEL, IMAGE_LABEL } from "./labels.js";

export interface LayoutRepo {
  readonly dir: string;
  /** Bytes on disk. */
  readonly sizeBytes: number;
}

export interface BuildCache {
  /** The cache volume's name in the engine. */
  readonly volume: string;
  /** The image its builds make (canonical), when the volume says. */
  readonly image?: string;
  /** The app directory its builds read, when the volume says. */
  readonly appDir?: string;
  readonly createdAt?: string;
  /** Bytes in the volume, when the engine reports them. */
  readonly sizeBytes?: number;
  /** A container uses the volume now (a build is running on it), when the engine says. */
  readonly inUse?: boolean;
  /** The image's layout repository, when it is on disk (builds with --publish make none). */
  readonly layoutRepo?: LayoutRepo;
}

/** Every cache volume on `driver`, by image then name, with its layout repository under `cacheRoot`. */
export async function listCaches(driver: RuntimeDriver, cacheRoot: string): Promise<BuildCache[]> {
  const volumes = await driver.volumes.list({ labels: { [CACHE_LABEL]: "build" } });
  const caches = await Promise.all(
    volumes.map(async (v): Promise<BuildCache> => {
      const image = v.labels[IMAGE_LABEL];
      const appDir = v.labels[APP_LABEL];
      const layoutRepo = image ? await layoutRepoOf(cacheRoot, driver.name, image) : undefined;
      return {
        volume: v.name,
        ...(image ? { image } : {}),
        ...(appDir ? { appDir } : {}),
        ...(v.createdAt ? { createdAt: v.createdAt } : {}),
        ...(v.sizeBytes !== undefined ? { sizeBytes: v.sizeBytes } : {}),
        ...(v.inUse !== undefined ? { inUse: v.inUse } : {}),
        ...(layoutRepo ? { layoutRepo } : {}),
      };
    }),
  );
  return caches.sort(
    (a, b) => (a.image ?? "").localeCompare(b.image ?? "") || a.volume.localeCompare(b.volume),
  );
}

async function layoutRepoOf(
  cacheRoot: string,
  driver: string,
  image: string,
): Promise<LayoutRepo | undefined> {
  // build.ts keys the repository by the driver's name and the image, as here
  const dir = layoutRepoDir(cacheRoot, driver, image);
  const sizeBytes = await diskUsage(dir);
  return sizeBytes === undefined ? undefined : { dir, sizeBytes };
}
