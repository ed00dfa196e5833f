/**
 * analyzed.toml: the previous image, the run image (with its target) and the build image, written by
 * the analyzer and updated by generate and the restorer (files.md 1.6, 1.6a). `[metadata]` is the
 * previous image's io.buildpacks.lifecycle.metadata label in TOML spelling.
 */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding } from "../file-kind.js";
import { digest, freeTable, show } from "../schema.js";
import { layerRef } from "./label-lifecycle-metadata.js";

/** Target data of the run image. Go writes `arch-variant`, the spec `variant`: both are read. */
export const runImageTarget = z.looseObject({
  id: z.string().optional(),
  os: z.string().optional(),
  arch: z.string().optional(),
  variant: z.string().optional(),
  "arch-variant": z.string().optional(),
  distro: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
});

export type RunImageTarget = z.infer<typeof runImageTarget>;

/** The architecture variant under either spelling. */
export function targetArchVariant(target: RunImageTarget): string | undefined {
  return target["arch-variant"] || target.variant || undefined;
}

const layer = z.looseObject({
  sha: digest,
  build: z.boolean().optional(),
  launch: z.boolean().optional(),
  cache: z.boolean().optional(),
  metadata: freeTable.optional(),
});

const runImageNames = {
  image: z.string().optional(),
  mirrors: z.array(z.string()).optional(),
};

/** The lifecycle metadata label in TOML spelling: `run-image`/`top-layer`, a layer's `metadata`. */
export const previousImageMetadata = z.looseObject({
  // slice layers then the rest; a single table in labels older than slices
  app: z.union([z.array(layerRef), layerRef]).optional(),
  sbom: layerRef.optional(),
  config: layerRef.optional(),
  launcher: layerRef.optional(),
  "process-types": layerRef.optional(),
  buildpacks: z
    .array(
      z.looseObject({
        key: z.string().min(1),
        version: z.string(),
        layers: z.record(z.string(), layer).optional(),
        store: z.looseObject({ metadata: freeTable.optional() }).optional(),
      }),
    )
    .optional(),
  "run-image": z
    .looseObject({
      "top-layer": layerRef.shape.sha.optional(),
      reference: z.string().optional(),
      ...runImageNames,
    })
    .optional(),
  stack: z.looseObject({ "run-image": z.looseObject(runImageNames).optional() }).optional(),
});

export type PreviousImageMetadata = z.infer<typeof previousImageMetadata>;

const schema = z.looseObject({
  // reference: digest ref, daemon image ID or layout path; "" when there is no previous image
  image: z.looseObject({ reference: z.string() }).optional(),
  "build-image": z.looseObject({ reference: z.string(), extend: z.boolean().optional() }).optional(),
  "run-image": z
    .looseObject({
      reference: z.string(),
      image: z.string().optional(),
      extend: z.boolean().optional(),
      target: runImageTarget.optional(),
    })
    .optional(),
  metadata: previousImageMetadata.optional(),
});

export type AnalyzedMetadata = z.infer<typeof schema>;

/** `json` used in `table` where analyzed.toml spells it `toml`: label habits are the usual mistake. */
function jsonSpelling(
  table: object | undefined,
  json: string,
  toml: string,
  path: (string | number)[],
): Finding[] {
  if (!table || !(json in table) || toml in table) return [];
  return [
    {
      path: [...path, json],
      message: `is the label's JSON spelling: analyzed.toml calls it "${toml}" (ignored)`,
      severity: "warning",
    },
  ];
}

function checkSpelling(md: PreviousImageMetadata | undefined): Finding[] {
  if (!md) return [];
  const layers = (md.buildpacks ?? []).flatMap((bp, i) =>
    Object.entries(bp.layers ?? {}).flatMap(([name, l]) =>
      jsonSpelling(l, "data", "metadata", ["metadata", "buildpacks", i, "layers", name]),
    ),
  );
  return [
    ...jsonSpelling(md, "runImage", "run-image", ["metadata"]),
    ...jsonSpelling(md["run-image"], "topLayer", "top-layer", ["metadata", "run-image"]),
    ...jsonSpelling(md.stack, "runImage", "run-image", ["metadata", "stack"]),
    ...layers,
  ];
}

function checkApi(analyzed: AnalyzedMetadata, api: string): Finding[] {
  const runImage = analyzed["run-image"];
  const gated: [(string | number)[], unknown, string][] = [
    [["build-image"], analyzed["build-image"], "0.10"],
    [["run-image", "image"], runImage?.image, "0.12"],
    [["run-image", "extend"], runImage?.extend, "0.12"],
    [["run-image", "target"], runImage?.target, "0.12"],
  ];
  return gated
    .filter(([, value, min]) => value !== undefined && !apiAtLeast(api, min))
    .map(([path, , min]) => ({
      path,
      message: `needs Platform API ${min} or newer`,
      severity: "warning" as const,
    }));
}

export const analyzedToml: FileKind<AnalyzedMetadata> = {
  name: "analyzed.toml",
  fileNames: ["analyzed.toml"],
  format: "toml",
  summary: "analyzer output: previous image and its layer metadata, run image and target, build image",
  schema,
  check(analyzed, ctx) {
    const findings = [...checkApi(analyzed, ctx.platformApi ?? "0.15"), ...checkSpelling(analyzed.metadata)];
    const target = analyzed["run-image"]?.target;
    if (target?.variant && target["arch-variant"] && target.variant !== target["arch-variant"]) {
      findings.push({
        path: ["run-image", "target", "arch-variant"],
        message: `${show(target["arch-variant"])} differs from run-image.target.variant ${show(target.variant)}`,
      });
    }
    return findings;
  },
};
