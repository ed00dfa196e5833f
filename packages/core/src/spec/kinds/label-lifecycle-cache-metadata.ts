/** io.buildpacks.lifecycle.cache.metadata: the cache's layer record (shared/spec/files.md 3.4). */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { buildpackLayersMetadata, checkLayerSpelling, layerRef } from "./label-lifecycle-metadata.js";

const schema = z.looseObject({
  sbom: layerRef.optional(),
  buildpacks: z.array(buildpackLayersMetadata).nullable().optional(),
});

export type CacheMetadata = z.infer<typeof schema>;

export const cacheMetadataLabel: FileKind<CacheMetadata> = {
  name: "io.buildpacks.lifecycle.cache.metadata",
  fileNames: [],
  format: "json",
  summary: "cache image label (and cache dir file): cached layer diffIDs and metadata",
  schema,
  check: (md) => checkLayerSpelling(md.buildpacks),
};
