/** io.buildpacks.build.metadata: the app image's buildpacks, processes and launcher (files.md 3.2). */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { show } from "../schema.js";
import { tomlSpelling } from "./label-lifecycle-metadata.js";

/** Go omits `api` and `optional` here; the spec shows `api`. */
const groupElement = z.looseObject({
  id: z.string().min(1),
  version: z.string(),
  api: z.string().optional(),
  homepage: z.string().optional(),
});

const process = z.looseObject({
  type: z.string().min(1),
  // Platform API >= 0.10 writes an array; before, one string (the rest moved into args)
  command: z.union([z.array(z.string()), z.string()], {
    error: (iss) =>
      `must be an array of strings (or a string before Platform API 0.10), found ${show(iss.input)}`,
  }),
  args: z.array(z.string()).nullable().optional(),
  direct: z.boolean().optional(),
  default: z.boolean().optional(),
  buildpackID: z.string().optional(),
  "working-dir": z.string().optional(),
  "exec-env": z.array(z.string()).optional(),
});

const schema = z.looseObject({
  bom: z.array(z.unknown()).nullable().optional(),
  buildpacks: z.array(groupElement).nullable().optional(),
  extensions: z.array(groupElement).nullable().optional(),
  processes: z.array(process).nullable().optional(),
  launcher: z
    .looseObject({
      version: z.string().optional(),
      source: z
        .looseObject({
          git: z.looseObject({ repository: z.string().optional(), commit: z.string().optional() }).optional(),
        })
        .optional(),
    })
    .optional(),
  "buildpack-default-process-type": z.string().optional(),
});

export type BuildMetadataLabel = z.infer<typeof schema>;

/** A process's command as a list, whichever form the label has. */
export function processCommand(p: { command: string | string[] }): string[] {
  return typeof p.command === "string" ? [p.command] : p.command;
}

export const buildMetadataLabel: FileKind<BuildMetadataLabel> = {
  name: "io.buildpacks.build.metadata",
  fileNames: [],
  format: "json",
  summary: "app image label: buildpacks and extensions used, processes, launcher version",
  schema,
  check: (md) =>
    (md.processes ?? []).flatMap((p, i) => tomlSpelling(p, "buildpack-id", "buildpackID", ["processes", i])),
};
