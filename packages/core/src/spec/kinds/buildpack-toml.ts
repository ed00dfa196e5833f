/** buildpack.toml: a buildpack's descriptor (Buildpack API spec; shapes in shared/spec/files.md 2.1). */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding } from "../file-kind.js";
import {
  apiVersionString,
  freeTable,
  license,
  moduleId,
  moduleVersion,
  orderGroups,
  target,
} from "../schema.js";

/** exec-env: Go and pack write `exec-env = ["..."]`, the spec `[[buildpack.exec-env]] name = "..."`. */
export const execEnvList = z.union([z.array(z.string()), z.array(z.looseObject({ name: z.string() }))]);

/** The fields `[buildpack]` and `[extension]` share. */
export const moduleDescription = {
  id: moduleId,
  version: moduleVersion,
  name: z.string().optional(),
  homepage: z.string().optional(),
  description: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  "clear-env": z.boolean().optional(),
  licenses: z.array(license).optional(),
  "exec-env": execEnvList.optional(),
};

export const stack = z.looseObject({ id: z.string().min(1), mixins: z.array(z.string()).optional() });

const schema = z.looseObject({
  api: apiVersionString,
  buildpack: z.looseObject({ ...moduleDescription, "sbom-formats": z.array(z.string()).optional() }),
  order: orderGroups.optional(),
  targets: z.array(target).optional(),
  stacks: z.array(stack).optional(),
  metadata: freeTable.optional(),
});

export type BuildpackDescriptor = z.infer<typeof schema>;

/** Buildpack APIs cnbp's lifecycle runs (the Go lifecycle 0.21 runs the same range). */
export const SUPPORTED_BUILDPACK_APIS = { min: "0.7", max: "0.12" } as const;

export function checkModuleApi(api: string): Finding[] {
  const { min, max } = SUPPORTED_BUILDPACK_APIS;
  if (apiAtLeast(api, min) && apiAtLeast(max, api)) return [];
  return [
    {
      path: ["api"],
      message: `"${api}" is outside the Buildpack APIs cnbp runs (${min} to ${max})`,
      severity: "warning",
    },
  ];
}

export const buildpackToml: FileKind<BuildpackDescriptor> = {
  name: "buildpack.toml",
  fileNames: ["buildpack.toml"],
  format: "toml",
  summary: "a buildpack's descriptor",
  schema,
  check(bp) {
    const findings = checkModuleApi(bp.api);
    if (bp.order && bp.stacks) {
      findings.push({
        path: ["stacks"],
        message: "is not allowed in a composite buildpack (one with [[order]])",
      });
    }
    if (bp.order && bp.order.length === 0) {
      findings.push({ path: ["order"], message: "must have at least 1 group in a composite buildpack" });
    }
    for (const [i, group] of (bp.order ?? []).entries()) {
      if (group.group.length === 0)
        findings.push({ path: ["order", i, "group"], message: "must have at least 1 entry" });
    }
    if (bp.buildpack["exec-env"] && !apiAtLeast(bp.api, "0.12")) {
      findings.push({
        path: ["buildpack", "exec-env"],
        message: "needs Buildpack API 0.12 or newer",
        severity: "warning",
      });
    }
    if (bp.targets && !apiAtLeast(bp.api, "0.10")) {
      findings.push({
        path: ["targets"],
        message: "needs Buildpack API 0.10 or newer (use [[stacks]] before)",
        severity: "warning",
      });
    }
    if (bp.stacks && apiAtLeast(bp.api, "0.10")) {
      findings.push({
        path: ["stacks"],
        message: "is deprecated since Buildpack API 0.10: declare [[targets]]",
        severity: "warning",
      });
    }
    return findings;
  },
};
