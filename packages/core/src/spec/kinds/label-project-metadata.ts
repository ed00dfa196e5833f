/** io.buildpacks.project.metadata: JSON of project-metadata.toml, `{}` without one (files.md 3.3). */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { freeTable } from "../schema.js";

const schema = z.looseObject({
  source: z
    .looseObject({
      type: z.string().optional(),
      version: freeTable.optional(),
      metadata: freeTable.optional(),
    })
    .optional(),
});

export type ProjectMetadataLabel = z.infer<typeof schema>;

export const projectMetadataLabel: FileKind<ProjectMetadataLabel> = {
  name: "io.buildpacks.project.metadata",
  fileNames: [],
  format: "json",
  summary: "app image label: where the app's source came from (e.g. git commit)",
  schema,
};
