/**
 * The buildpack plan (shared/spec/buildpack.md 3.6): what each buildpack receives from plan.toml, and what is
 * left for the buildpacks after it once it has met what it received.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildpackPlan, buildpackPlan, type PlanFile, serializeSpec } from "@cnbp/core";
import { escapeId } from "../modules/store.js";

export type PlanEntry = NonNullable<BuildpackPlan["entries"]>[number];

/** The requires of every plan entry that lists this buildpack (not an extension of that id) as a provider. */
export function planFor(plan: PlanFile, buildpackId: string): PlanEntry[] {
  return (plan.entries ?? [])
    .filter((e) => e.providers.some((p) => p.id === buildpackId && !p.extension))
    .flatMap((e) => e.requires);
}

/** The plan without the entries the buildpack met: every name it received and did not list in `[[unmet]]`. */
export function withoutMet(
  plan: PlanFile,
  received: readonly PlanEntry[],
  unmet: readonly string[],
): PlanFile {
  const met = new Set(received.map((r) => r.name).filter((name) => !unmet.includes(name)));
  return { ...plan, entries: (plan.entries ?? []).filter((e) => !e.requires.some((r) => met.has(r.name))) };
}

/** A buildpack plan file in a fresh temp dir, readable by the build user; `remove` deletes both. */
export async function writePlanFile(
  buildpackId: string,
  entries: readonly PlanEntry[],
  owner: { uid: number; gid: number } | undefined,
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${escapeId(buildpackId)}-`));
  const path = join(dir, escapeId(buildpackId), "plan.toml");
  await mkdir(join(dir, escapeId(buildpackId)));
  await writeFile(path, entries.length > 0 ? serializeSpec(buildpackPlan, { entries: [...entries] }) : "");
  if (owner) {
    for (const p of [dir, join(dir, escapeId(buildpackId)), path]) await chown(p, owner.uid, owner.gid);
  }
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
