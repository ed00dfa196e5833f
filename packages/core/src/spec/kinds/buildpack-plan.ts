/**
 * The buildpack plan handed to `bin/build` / `bin/generate` at CNB_BP_PLAN_PATH (shared/spec/files.md
 * 2.3): the requires of every plan entry the module provides. It has no file name of its own.
 */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { planRequire, topLevelVersions } from "./build-plan.js";

const schema = z.looseObject({ entries: z.array(planRequire).optional() });

export type BuildpackPlan = z.infer<typeof schema>;

export const buildpackPlan: FileKind<BuildpackPlan> = {
  name: "buildpack plan",
  fileNames: [],
  format: "toml",
  summary: "the plan entries given to bin/build or bin/generate ([[entries]] name, metadata)",
  schema,
  check: (plan) => topLevelVersions(plan.entries, ["entries"]),
};
