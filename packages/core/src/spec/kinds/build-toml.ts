/** build.toml: plan entries a buildpack leaves unmet, and the legacy BOM (shared/spec/files.md 2.6). */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { show } from "../schema.js";
import { planRequire, topLevelVersions } from "./build-plan.js";

/** `[[bom]]` in build.toml and launch.toml: deprecated in favour of SBOM files, still read. */
export const legacyBom = z.array(planRequire).optional();

export function checkLegacyBom(bom: readonly Record<string, unknown>[] | undefined): Finding[] {
  if (!bom?.length) return [];
  return [
    {
      path: ["bom"],
      message: "is deprecated: write SBOM files (<layer>.sbom.<ext>, launch.sbom.<ext>, build.sbom.<ext>)",
      severity: "warning",
    },
    ...topLevelVersions(bom, ["bom"]),
  ];
}

const schema = z.looseObject({
  unmet: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  bom: legacyBom,
});

export type BuildTomlFile = z.infer<typeof schema>;

/** Each unmet name must be one the buildpack received in its buildpack plan. */
export function checkUnmet(build: BuildTomlFile, planNames: readonly string[]): Finding[] {
  return (build.unmet ?? []).flatMap((u, i) =>
    planNames.includes(u.name)
      ? []
      : [{ path: ["unmet", i, "name"], message: `${show(u.name)} is not an entry of the buildpack plan` }],
  );
}

export const buildToml: FileKind<BuildTomlFile> = {
  name: "build.toml",
  fileNames: ["build.toml"],
  format: "toml",
  summary: "a buildpack's unmet plan entries ([[unmet]] name)",
  schema,
  check: (build) => checkLegacyBom(build.bom),
};
