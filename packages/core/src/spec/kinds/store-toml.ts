/** store.toml: buildpack data kept from build to build in the image label (shared/spec/files.md 2.7). */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { freeTable } from "../schema.js";

const schema = z.looseObject({ metadata: freeTable.optional() });

export type StoreMetadataFile = z.infer<typeof schema>;

export const storeToml: FileKind<StoreMetadataFile> = {
  name: "store.toml",
  fileNames: ["store.toml"],
  format: "toml",
  summary: "buildpack data persisted across builds ([metadata])",
  schema,
  // only [metadata] reaches the label: anything else would be lost without a word
  check: (store) =>
    Object.keys(store)
      .filter((key) => key !== "metadata")
      .map((key) => ({
        path: [key],
        message: "is not kept: only [metadata] is persisted",
        severity: "warning" as const,
      })),
};
