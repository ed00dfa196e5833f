/** extension.toml: an image extension's descriptor (shared/spec/extensions.md 8). */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind } from "../file-kind.js";
import { apiVersionString, freeTable, target } from "../schema.js";
import { checkModuleApi, moduleDescription } from "./buildpack-toml.js";

const schema = z.looseObject({
  api: apiVersionString,
  extension: z.looseObject(moduleDescription),
  targets: z.array(target).optional(),
  metadata: freeTable.optional(),
});

export type ExtensionDescriptor = z.infer<typeof schema>;

export const extensionToml: FileKind<ExtensionDescriptor> = {
  name: "extension.toml",
  fileNames: ["extension.toml"],
  format: "toml",
  summary: "an image extension's descriptor",
  schema,
  check(ext) {
    const findings = checkModuleApi(ext.api);
    // an [[order]] would silently make nothing run: extensions are never composite
    if (ext.order !== undefined) {
      findings.push({ path: ["order"], message: "is not allowed: extensions cannot be composite" });
    }
    if (ext.stacks !== undefined) {
      findings.push({
        path: ["stacks"],
        message: "is ignored: extensions declare [[targets]], never stacks",
        severity: "warning",
      });
    }
    if (ext.extension["sbom-formats"] !== undefined) {
      findings.push({
        path: ["extension", "sbom-formats"],
        message: "is ignored: extensions may not write SBOM files",
        severity: "warning",
      });
    }
    if (ext.extension["exec-env"] && !apiAtLeast(ext.api, "0.12")) {
      findings.push({
        path: ["extension", "exec-env"],
        message: "needs Buildpack API 0.12 or newer",
        severity: "warning",
      });
    }
    return findings;
  },
};
