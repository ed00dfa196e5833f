/**
 * io.buildpacks.lifecycle.metadata: the app image's layer record, read back by the analyzer, restorer
 * and rebaser (shared/spec/files.md 3.1). JSON spells some keys unlike analyzed.toml's [metadata]:
 * `data` for a layer's metadata, `runImage`/`topLayer`.
 */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { digest, freeTable, matching } from "../schema.js";

/** A layer by diffID; `""` where there is none (no processes, no SBOM). */
export const layerRef = z.looseObject({
  sha: matching(/^(sha256:[a-f0-9]{64})?$/, "is not a digest (sha256:<64 lowercase hex digits>) or empty"),
});

export const layerMetadata = z.looseObject({
  sha: digest,
  data: z.unknown().optional(),
  build: z.boolean().optional(),
  launch: z.boolean().optional(),
  cache: z.boolean().optional(),
});

/** One buildpack's layers (by name) and store.toml; Go writes `null` for an empty map. */
export const buildpackLayersMetadata = z.looseObject({
  key: z.string().min(1),
  version: z.string(),
  layers: z.record(z.string(), layerMetadata).nullable().optional(),
  store: z.looseObject({ metadata: freeTable.nullable().optional() }).nullable().optional(),
});

const runImageRef = z.looseObject({
  image: z.string().optional(),
  mirrors: z.array(z.string()).nullable().optional(),
});

const schema = z.looseObject({
  // an array of slice layers then the rest; a single object in labels older than slices
  app: z
    .union([z.array(layerRef), layerRef])
    .nullable()
    .optional(),
  sbom: layerRef.optional(),
  config: layerRef.optional(),
  launcher: layerRef.optional(),
  "process-types": layerRef.optional(),
  buildpacks: z.array(buildpackLayersMetadata).nullable().optional(),
  runImage: runImageRef
    .extend({ topLayer: layerRef.shape.sha.optional(), reference: z.string().optional() })
    .optional(),
  stack: z.looseObject({ runImage: runImageRef.optional() }).optional(),
});

export type LifecycleMetadata = z.infer<typeof schema>;

/** The key `toml` in `table` where the label expects `json`: TOML habits are the usual mistake. */
export function tomlSpelling(
  table: object | null | undefined,
  toml: string,
  json: string,
  path: (string | number)[],
): Finding[] {
  if (!table || !(toml in table) || json in table) return [];
  return [
    {
      path: [...path, toml],
      message: `is the TOML spelling: the label calls it "${json}" (ignored)`,
      severity: "warning",
    },
  ];
}

/** Layer entries spelling `data` as TOML's `metadata`. */
export function checkLayerSpelling(
  buildpacks: readonly z.infer<typeof buildpackLayersMetadata>[] | null | undefined,
): Finding[] {
  return (buildpacks ?? []).flatMap((bp, i) =>
    Object.entries(bp.layers ?? {}).flatMap(([name, layer]) =>
      tomlSpelling(layer, "metadata", "data", ["buildpacks", i, "layers", name]),
    ),
  );
}

export const lifecycleMetadataLabel: FileKind<LifecycleMetadata> = {
  name: "io.buildpacks.lifecycle.metadata",
  fileNames: [],
  format: "json",
  summary: "app image label: layer diffIDs, buildpack layer metadata, run image for rebase",
  schema,
  check(md) {
    return [
      ...tomlSpelling(md, "run-image", "runImage", []),
      ...tomlSpelling(md.runImage, "top-layer", "topLayer", ["runImage"]),
      ...checkLayerSpelling(md.buildpacks),
    ];
  },
};
