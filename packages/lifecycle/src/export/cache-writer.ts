/**
 * The exporter's cache step (shared/spec/platform.md 8.2): every `cache = true` layer of the group with a
 * directory, tarred as image layers are, is reused from the cache when its diffID is the one the cache
 * recorded for it (and the cached blob verifies), else added; the cache-type SBOMs become one more layer. The
 * new cache replaces the old one on commit: layers no longer cached are gone.
 */
import { join } from "node:path";
import { type CacheMetadata, layerTypes } from "@cnbp/core";
import type { CommitResult, LayerCache } from "../cache/index.js";
import type { Log } from "../log.js";
import { isDir } from "./assemble.js";
import { type GroupBuildpack, readBuildpackLayers } from "./buildpack-layers.js";
import type { BuiltLayer, LayerFactory } from "./layer-factory.js";

export interface CacheInput {
  readonly cache: LayerCache;
  readonly layersDir: string;
  readonly group: readonly GroupBuildpack[];
  readonly factory: LayerFactory;
  readonly log: Log;
}

type CachedBuildpack = NonNullable<CacheMetadata["buildpacks"]>[number];
type CachedLayers = NonNullable<CachedBuildpack["layers"]>;

export const CACHE_SBOM_ID = "buildpacksio/lifecycle:cache.sbom";

export async function writeCache(input: CacheInput): Promise<CommitResult> {
  const { cache, factory, log } = input;
  const previous = cache.metadata;

  const addOrReuse = async (built: BuiltLayer, previousSha: string | undefined): Promise<string> => {
    const { diffId } = built.result;
    if (previousSha === diffId && (await cache.reuse(built.id, diffId))) {
      log.info(`Reusing cache layer '${built.id}'`);
    } else {
      log.info(`Adding cache layer '${built.id}'`);
      await cache.add(built.id, built.file, diffId);
    }
    log.debug(`Layer '${built.id}' SHA: ${diffId}`);
    return diffId;
  };

  const buildpacks: CachedBuildpack[] = [];
  for (const bp of input.group) {
    const dir = await readBuildpackLayers(input.layersDir, bp);
    const cachedBefore = previous.buildpacks?.find((b) => b.key === bp.id)?.layers ?? {};
    const layers: CachedLayers = {};
    for (const layer of dir.cachedLayers) {
      if (!layer.hasContents) {
        log.warn(`Failed to cache layer '${layer.identifier}': cached layer must have local contents`);
        continue;
      }
      const built = await factory.dir(layer.identifier, "", layer.path);
      const types = layerTypes(layer.metadata);
      layers[layer.name] = {
        sha: await addOrReuse(built, cachedBefore[layer.name]?.sha),
        data: layer.metadata.metadata ?? null,
        build: types.build,
        launch: types.launch,
        cache: types.cache,
      };
    }
    buildpacks.push({ key: bp.id, version: bp.version, layers });
  }

  const metadata: CacheMetadata = { buildpacks };
  const sbomDir = join(input.layersDir, "sbom", "cache");
  if (await isDir(sbomDir)) {
    const built = await factory.dir(CACHE_SBOM_ID, "", sbomDir);
    metadata.sbom = { sha: await addOrReuse(built, previous.sbom?.sha) };
  }
  return cache.commit(metadata);
}
