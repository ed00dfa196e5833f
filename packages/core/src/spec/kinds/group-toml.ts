/** group.toml: the detector's chosen buildpacks and extensions, in build order (files.md 1.4). */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind } from "../file-kind.js";
import { apiVersionString, moduleId, versionRef } from "../schema.js";

/** A module of the chosen group: the detector writes its Buildpack API (`optional` never appears). */
export const groupElement = z.looseObject({
  id: moduleId,
  version: versionRef,
  api: apiVersionString,
  homepage: z.string().optional(),
});

const schema = z.looseObject({
  group: z.array(groupElement).min(1),
  "group-extensions": z.array(groupElement).optional(),
});

export type GroupFile = z.infer<typeof schema>;

export const groupToml: FileKind<GroupFile> = {
  name: "group.toml",
  fileNames: ["group.toml"],
  format: "toml",
  summary: "detector output: the buildpacks and extensions that passed detection, in order",
  schema,
  check(file, ctx) {
    if (!file["group-extensions"] || apiAtLeast(ctx.platformApi ?? "0.15", "0.10")) return [];
    return [{ path: ["group-extensions"], message: "needs Platform API 0.10 or newer", severity: "warning" }];
  },
};
