/**
 * `<layers>/<bp>/<layer>.toml`: a layer's types and free-form metadata (shared/spec/files.md 2.4). The
 * file name is the layer's, so the kind is only chosen explicitly. The Buildpack API is the writer's.
 */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding, SpecContext } from "../file-kind.js";
import { foundValue, freeTable } from "../schema.js";

const schema = z.looseObject({
  types: z
    .looseObject({
      launch: z.boolean().optional(),
      build: z.boolean().optional(),
      cache: z.boolean().optional(),
    })
    .optional(),
  metadata: freeTable.optional(),
});

export type LayerMetadataFile = z.infer<typeof schema>;

const FLAGS = ["launch", "build", "cache"] as const;

/** The layer's flags, absent meaning false (a restored `<layer>.toml` has none: an ignored layer). */
export function layerTypes(layer: LayerMetadataFile): { launch: boolean; build: boolean; cache: boolean } {
  const t = layer.types ?? {};
  return { launch: t.launch ?? false, build: t.build ?? false, cache: t.cache ?? false };
}

function checkExecEnv(metadata: Record<string, unknown> | undefined, api: string): Finding[] {
  const execEnv = metadata?.["exec-env"];
  if (execEnv === undefined) return [];
  const path = ["metadata", "exec-env"];
  // before 0.12 the key is ordinary buildpack data, so its shape is not ours to check
  if (!apiAtLeast(api, "0.12")) {
    return [{ path, message: "needs Buildpack API 0.12 or newer", severity: "warning" }];
  }
  if (!Array.isArray(execEnv) || execEnv.some((e) => typeof e !== "string")) {
    return [{ path, message: `must be an array of strings, found ${foundValue(execEnv)}` }];
  }
  return [];
}

export const layerToml: FileKind<LayerMetadataFile> = {
  name: "layer.toml",
  fileNames: [],
  format: "toml",
  summary: "a layer's content metadata (<layers>/<buildpack>/<layer>.toml: [types], [metadata])",
  schema,
  check(layer, ctx: SpecContext) {
    const findings: Finding[] = FLAGS.filter((flag) => layer[flag] !== undefined).map((flag) => ({
      path: [flag],
      message: "is not allowed at the top level: it belongs under [types]",
    }));
    return [...findings, ...checkExecEnv(layer.metadata, ctx.buildpackApi ?? "0.12")];
  },
};
