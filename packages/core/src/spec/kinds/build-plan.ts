/**
 * The build plan `bin/detect` writes to CNB_BUILD_PLAN_PATH (shared/spec/files.md 2.2): what the module
 * provides and requires, and `[[or]]` alternatives. It has no file name of its own.
 */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { freeTable, show } from "../schema.js";

export const planProvide = z.looseObject({ name: z.string().min(1) });

/** A require, also the shape of a buildpack plan entry and of a legacy `[[bom]]` entry. */
export const planRequire = z.looseObject({ name: z.string().min(1), metadata: freeTable.optional() });

const sections = {
  provides: z.array(planProvide).optional(),
  requires: z.array(planRequire).optional(),
};

const schema = z.looseObject({ ...sections, or: z.array(z.looseObject(sections)).optional() });

export type BuildPlan = z.infer<typeof schema>;

/**
 * A `version` key directly in a require (or BOM entry) is refused at every Buildpack API, as the Go
 * lifecycle does; the version belongs in its metadata.
 */
export function topLevelVersions(
  entries: readonly Record<string, unknown>[] | undefined,
  path: readonly (string | number)[],
): Finding[] {
  return (entries ?? []).flatMap((entry, i) =>
    entry.version === undefined
      ? []
      : [
          {
            path: [...path, i, "version"],
            message: `${show(entry.version)} is not supported: use metadata.version instead`,
          },
        ],
  );
}

/** Extensions may only provide: any require in their plan is an error. */
export function checkExtensionPlan(plan: BuildPlan): Finding[] {
  const where: (string | number)[][] = [];
  if (plan.requires?.length) where.push(["requires"]);
  for (const [i, alt] of (plan.or ?? []).entries())
    if (alt.requires?.length) where.push(["or", i, "requires"]);
  return where.map((path) => ({ path, message: "is not allowed in an image extension's build plan" }));
}

export const buildPlan: FileKind<BuildPlan> = {
  name: "build plan",
  fileNames: [],
  format: "toml",
  summary: "what bin/detect provides and requires ([[provides]], [[requires]], [[or]])",
  schema,
  check: (plan) => [
    ...topLevelVersions(plan.requires, ["requires"]),
    ...(plan.or ?? []).flatMap((alt, i) => topLevelVersions(alt.requires, ["or", i, "requires"])),
  ],
};
