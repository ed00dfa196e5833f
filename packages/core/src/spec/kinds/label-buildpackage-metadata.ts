/** io.buildpacks.buildpackage.metadata: the entrypoint module of a buildpackage (files.md 3.7). */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { license, target } from "../schema.js";
import { stack } from "./buildpack-toml.js";

const schema = z.looseObject({
  id: z.string().min(1),
  version: z.string().min(1),
  name: z.string().optional(),
  description: z.string().optional(),
  homepage: z.string().optional(),
  keywords: z.array(z.string()).nullable().optional(),
  licenses: z.array(license).nullable().optional(),
  // legacy; pack writes null for target-based buildpacks and extensions
  stacks: z.array(stack).nullable().optional(),
  targets: z.array(target).nullable().optional(),
});

export type BuildpackageMetadata = z.infer<typeof schema>;

export const buildpackageMetadataLabel: FileKind<BuildpackageMetadata> = {
  name: "io.buildpacks.buildpackage.metadata",
  fileNames: [],
  format: "json",
  summary: "buildpackage label: id, version and info of the packaged entrypoint module",
  schema,
};
