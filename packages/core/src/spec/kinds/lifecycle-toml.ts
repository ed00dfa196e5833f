/**
 * lifecycle.toml: a lifecycle release's version and the APIs it speaks (distribution.md 4). `[api]` holds
 * the legacy single minimums (RFC 0011) that old platforms read when `[apis]` is absent.
 */
import { z } from "zod";
import { apiSupported } from "../api-version.js";
import type { FileKind, Finding } from "../file-kind.js";
import { apiVersionString, matching, show } from "../schema.js";

const apiList = z.array(apiVersionString);
const apiVersions = z.looseObject({ deprecated: apiList.optional(), supported: apiList.optional() });

/** pack reads the version as semver, leniently ("v" prefix, missing minor or patch). */
const lifecycleVersion = matching(
  /^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/,
  'is not a valid version (semver, e.g. "0.21.0")',
);

const schema = z.looseObject({
  apis: z.looseObject({ buildpack: apiVersions.optional(), platform: apiVersions.optional() }).optional(),
  api: z
    .looseObject({ buildpack: apiVersionString.optional(), platform: apiVersionString.optional() })
    .optional(),
  lifecycle: z.looseObject({
    version: lifecycleVersion,
    "sbom-formats": z.array(z.string()).optional(),
  }),
});

export type LifecycleDescriptor = z.infer<typeof schema>;

const KINDS = ["platform", "buildpack"] as const;

/** The APIs the lifecycle supports: `[apis]`, else the single legacy `[api]` version; undefined when neither. */
export function lifecycleApis(
  descriptor: LifecycleDescriptor,
  kind: "buildpack" | "platform",
): { deprecated: string[]; supported: string[] } | undefined {
  const apis = descriptor.apis?.[kind];
  if (apis?.supported?.length) return { deprecated: apis.deprecated ?? [], supported: apis.supported };
  const legacy = descriptor.api?.[kind];
  return legacy ? { deprecated: [], supported: [legacy] } : undefined;
}

export const lifecycleToml: FileKind<LifecycleDescriptor> = {
  name: "lifecycle.toml",
  fileNames: ["lifecycle.toml"],
  format: "toml",
  summary: "a lifecycle release's version and supported Buildpack and Platform APIs",
  schema,
  check(descriptor) {
    const findings: Finding[] = [];
    for (const kind of KINDS) {
      if (!lifecycleApis(descriptor, kind)) {
        findings.push({
          path: ["apis", kind, "supported"],
          message: `is required (or the legacy api.${kind})`,
        });
      }
      const { deprecated = [], supported = [] } = descriptor.apis?.[kind] ?? {};
      for (const [i, version] of deprecated.entries()) {
        if (apiSupported(version, supported)) continue;
        findings.push({
          path: ["apis", kind, "deprecated", i],
          message: `${show(version)} is not in apis.${kind}.supported (deprecated APIs are still supported ones)`,
          severity: "warning",
        });
      }
    }
    return findings;
  },
};
