/** io.buildpacks.project.metadata: JSON of project-metadata.toml, `{}` without one (files.md 3.3). */
import type { FileKind } from "../file-kind.js";
import { type ProjectMetadataFile, projectMetadataSchema } from "./project-metadata-toml.js";

export type ProjectMetadataLabel = ProjectMetadataFile;

export const projectMetadataLabel: FileKind<ProjectMetadataLabel> = {
  name: "io.buildpacks.project.metadata",
  fileNames: [],
  format: "json",
  summary: "app image label: where the app's source came from (e.g. git commit)",
  schema: projectMetadataSchema,
};
