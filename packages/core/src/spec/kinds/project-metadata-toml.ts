/** project-metadata.toml: where the app source came from, written by the platform (files.md 1.8). */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { freeTable } from "../schema.js";

/** Also the shape of the io.buildpacks.project.metadata label, which is this file as JSON. */
export const projectMetadataSchema = z.looseObject({
  source: z
    .looseObject({
      type: z.string().optional(),
      version: freeTable.optional(),
      metadata: freeTable.optional(),
    })
    .optional(),
});

export type ProjectMetadataFile = z.infer<typeof projectMetadataSchema>;

export const projectMetadataToml: FileKind<ProjectMetadataFile> = {
  name: "project-metadata.toml",
  fileNames: ["project-metadata.toml"],
  format: "toml",
  summary: "platform input to the exporter: the app source's type, version and metadata",
  schema: projectMetadataSchema,
};
