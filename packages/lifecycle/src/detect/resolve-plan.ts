/**
 * Build plan resolution (shared/spec/buildpack.md 3.3): each passing module offers its top-level
 * provides/requires and then each `[[or]]` alternative; trials pick one option per module, depth-first in
 * group order. In a trial, a require is met by providers at or before it and a provide is used by a require
 * after it; required modules that offend fail the trial, optional ones (extensions always) are dropped and the
 * trial evaluated again. As in the Go lifecycle, only an optional module's last option may be dropped.
 */
import type { BuildPlan, PlanFile } from "@cnbp/core";
import type { Log } from "../log.js";
import type { ModuleRef } from "./order.js";

/** A module that passed detection, with its plan. */
export interface Participant<M extends ModuleRef = ModuleRef> {
  readonly ref: M;
  readonly plan: BuildPlan;
}

/** One `[[entries]]` of plan.toml: a dependency's providers and requires. */
export type PlanEntry = NonNullable<PlanFile["entries"]>[number];
type PlanRequire = PlanEntry["requires"][number];

export interface ResolvedPlan<M extends ModuleRef> {
  /** The modules that take part, in group order. */
  readonly modules: M[];
  readonly entries: PlanEntry[];
}

type Sections = Pick<BuildPlan, "provides" | "requires">;

interface TrialOption<M extends ModuleRef> {
  readonly ref: M;
  readonly sections: Sections;
  /** May be dropped from the trial when it offends. */
  readonly droppable: boolean;
}

export const refName = (ref: ModuleRef) => `${ref.id}@${ref.version}`;

/** The first trial that succeeds, or undefined when none does ("Resolving plan... (try #n)" logged at debug). */
export function resolvePlan<M extends ModuleRef>(
  participants: readonly Participant<M>[],
  log: Log,
): ResolvedPlan<M> | undefined {
  let tries = 0;
  const walk = (prefix: TrialOption<M>[], rest: readonly Participant<M>[]): ResolvedPlan<M> | undefined => {
    const [first, ...others] = rest;
    if (!first) {
      tries++;
      return runTrial(tries, prefix, log);
    }
    const alternatives = [pickSections(first.plan), ...(first.plan.or ?? []).map(pickSections)];
    for (const [i, sections] of alternatives.entries()) {
      const droppable = first.ref.optional && i === alternatives.length - 1;
      const found = walk([...prefix, { ref: first.ref, sections, droppable }], others);
      if (found) return found;
    }
    return undefined;
  };
  return walk([], participants);
}

const pickSections = (s: Sections): Sections => ({
  ...(s.provides ? { provides: s.provides } : {}),
  ...(s.requires ? { requires: s.requires } : {}),
});

interface Dependency<M extends ModuleRef> {
  providers: M[];
  requires: PlanRequire[];
  /** Modules that required it before anyone provided it. */
  unmet: M[];
  /** Modules that provided it after its last require. */
  unused: M[];
}

function runTrial<M extends ModuleRef>(
  n: number,
  options: readonly TrialOption<M>[],
  log: Log,
): ResolvedPlan<M> | undefined {
  log.debug(`Resolving plan... (try #${n})`);
  let trial = [...options];
  for (;;) {
    const deps = dependencies(trial);
    const dropped = new Set<M>();
    // false: a module that may not be dropped offends, and the trial fails
    const offend = (ref: M, why: string): boolean => {
      if (!trial.find((o) => o.ref === ref)?.droppable) {
        log.debug(`fail: ${refName(ref)} ${why}`);
        return false;
      }
      log.debug(`skip: ${refName(ref)} ${why}`);
      dropped.add(ref);
      return true;
    };
    for (const [name, dep] of deps) {
      for (const ref of dep.unmet) if (!offend(ref, `requires ${name}`)) return undefined;
    }
    for (const [name, dep] of deps) {
      for (const ref of dep.unused) if (!offend(ref, `provides unused ${name}`)) return undefined;
    }
    if (dropped.size === 0) {
      if (!trial.some((o) => o.ref.kind === "buildpack")) {
        log.debug("fail: no viable buildpacks in group");
        return undefined;
      }
      return {
        modules: trial.map((o) => o.ref),
        entries: [...deps.values()].map((d) => ({
          providers: d.providers.map((p) => ({
            id: p.id,
            version: p.version,
            ...(p.kind === "extension" ? { extension: true as const } : {}),
          })),
          requires: d.requires,
        })),
      };
    }
    trial = trial.filter((o) => !dropped.has(o.ref));
  }
}

/** Each dependency name, in the order first seen: for each module its provides first, then its requires. */
function dependencies<M extends ModuleRef>(trial: readonly TrialOption<M>[]): Map<string, Dependency<M>> {
  const deps = new Map<string, Dependency<M>>();
  const dep = (name: string) => {
    let d = deps.get(name);
    if (!d) {
      d = { providers: [], requires: [], unmet: [], unused: [] };
      deps.set(name, d);
    }
    return d;
  };
  for (const { ref, sections } of trial) {
    for (const p of sections.provides ?? []) dep(p.name).unused.push(ref);
    for (const r of sections.requires ?? []) {
      const d = dep(r.name);
      d.providers.push(...d.unused);
      d.unused = [];
      if (d.providers.length === 0) d.unmet.push(ref);
      else d.requires.push({ name: r.name, ...(r.metadata ? { metadata: r.metadata } : {}) });
    }
  }
  return deps;
}
