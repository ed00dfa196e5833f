/** plan.toml: which module provides each dependency the group requires (files.md 1.5). */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { freeTable, moduleId, show, versionRef } from "../schema.js";

const provider = z.looseObject({
  id: moduleId,
  version: versionRef,
  extension: z.boolean().optional(),
});

const requirement = z.looseObject({ name: z.string().min(1), metadata: freeTable.optional() });

const schema = z.looseObject({
  entries: z
    .array(z.looseObject({ providers: z.array(provider).min(1), requires: z.array(requirement).min(1) }))
    .optional(),
});

export type PlanFile = z.infer<typeof schema>;

export const planToml: FileKind<PlanFile> = {
  name: "plan.toml",
  fileNames: ["plan.toml"],
  format: "toml",
  summary: "detector output: providers and requirements of every dependency in the build plan",
  schema,
  check(plan) {
    const findings: Finding[] = [];
    for (const [i, entry] of (plan.entries ?? []).entries()) {
      const first = entry.requires[0]?.name;
      for (const [j, req] of entry.requires.entries()) {
        if (req.name === first) continue;
        findings.push({
          path: ["entries", i, "requires", j, "name"],
          message: `${show(req.name)} differs from entries[${i}].requires[0].name ${show(first)} (an entry's requires all name one dependency)`,
        });
      }
    }
    return findings;
  },
};
