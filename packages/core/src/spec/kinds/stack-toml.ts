/** stack.toml: the run image and its mirrors before Platform API 0.12 (files.md 1.3). */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind } from "../file-kind.js";
import { checkMirrors, runImageEntry } from "./run-toml.js";

const schema = z.looseObject({ "run-image": runImageEntry.optional() });

export type StackFile = z.infer<typeof schema>;

export const stackToml: FileKind<StackFile> = {
  name: "stack.toml",
  fileNames: ["stack.toml"],
  format: "toml",
  summary: "legacy run image and mirrors (Platform API < 0.12; run.toml replaces it)",
  schema,
  check(stack, ctx) {
    const runImage = stack["run-image"] ?? {};
    const findings = checkMirrors(runImage, ["run-image"]);
    if (!runImage.image) {
      findings.push({
        path: ["run-image", "image"],
        message: "is missing: the analyzer needs -run-image",
        severity: "warning",
      });
    }
    if (apiAtLeast(ctx.platformApi ?? "0.15", "0.12")) {
      findings.push({
        path: [],
        message: "is not read from Platform API 0.12 on: give run.toml",
        severity: "warning",
      });
    }
    return findings;
  },
};
