/**
 * The build plan seen from one extension (shared/spec/buildpack.md 3.6): what it is handed, and the plan
 * left for later modules once it has run. Extensions satisfy everything they receive.
 */
import type { BuildpackPlan, PlanFile } from "@cnbp/core";

/** The requires of every plan entry the extension `id` provides, in plan order. */
export function extensionPlan(plan: PlanFile, id: string): BuildpackPlan {
  const entries = (plan.entries ?? []).filter((entry) =>
    entry.providers.some((p) => p.id === id && p.extension === true),
  );
  return { entries: entries.flatMap((entry) => entry.requires) };
}

/** The plan without the entries whose dependency is one of `names` (the names an extension received). */
export function withoutNames(plan: PlanFile, names: ReadonlySet<string>): PlanFile {
  const { entries: all, ...rest } = plan;
  const entries = (all ?? []).filter((entry) => !names.has(entry.requires[0]?.name ?? ""));
  // an empty plan is an empty file, as the detector writes it
  return entries.length > 0 ? { ...rest, entries } : rest;
}
