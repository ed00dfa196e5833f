/**
 * system.toml: buildpacks the detector puts before (`pre`) and after (`post`) every order group
 * (Platform API 0.15; files.md 1.2). The Go lifecycle ignores `optional` and requires them all.
 */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind } from "../file-kind.js";
import { moduleId, versionRef } from "../schema.js";

const systemBuildpacks = z.looseObject({
  buildpacks: z
    .array(z.looseObject({ id: moduleId, version: versionRef, optional: z.boolean().optional() }))
    .optional(),
});

const schema = z.looseObject({
  system: z.looseObject({ pre: systemBuildpacks.optional(), post: systemBuildpacks.optional() }).optional(),
});

export type SystemFile = z.infer<typeof schema>;

export const systemToml: FileKind<SystemFile> = {
  name: "system.toml",
  fileNames: ["system.toml"],
  format: "toml",
  summary: "system buildpacks added before and after every order group (Platform API 0.15)",
  schema,
  check(_file, ctx) {
    if (apiAtLeast(ctx.platformApi ?? "0.15", "0.15")) return [];
    return [
      {
        path: [],
        message: "needs Platform API 0.15 or newer (older lifecycles have no system buildpacks)",
        severity: "warning",
      },
    ];
  },
};
