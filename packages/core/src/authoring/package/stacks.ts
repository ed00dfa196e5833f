/**
 * The legacy stacks a buildpackage claims in `io.buildpacks.buildpackage.metadata` (distribution.md 2), as
 * pack works them out: the stacks every buildpack in it runs on, their mixins joined. A component buildpack
 * that declares no stacks (it declares targets) runs on any stack, `*`; a composite's own stacks do not count.
 */
import type { LayerInfo } from "../modules.js";

/** A type, not an interface, so that it fits the label's loose schema type. */
export type Stack = { readonly id: string; readonly mixins?: string[] };

const ANY = "*";

/** The stacks of the entrypoint and its dependencies together; empty when they share none. */
export function packageStacks(entrypoint: LayerInfo, dependencies: readonly LayerInfo[]): Stack[] {
  let stacks = stacksOf(entrypoint);
  for (const dependency of dependencies) {
    const theirs = stacksOf(dependency);
    if (stacks.length === 0) stacks = theirs;
    else if (theirs.length > 0) stacks = mergeStacks(stacks, theirs);
  }
  return stacks;
}

function stacksOf(module: LayerInfo): Stack[] {
  if (module.stacks?.length) return module.stacks.map((s) => ({ id: s.id, ...mixinsOf(s.mixins ?? []) }));
  return module.order?.length ? [] : [{ id: ANY }];
}

/** Stacks in both lists (in `b`'s order), with the mixins of both; `*` in one list gives the other. */
export function mergeStacks(a: readonly Stack[], b: readonly Stack[]): Stack[] {
  const anyA = a.some((s) => s.id === ANY);
  const anyB = b.some((s) => s.id === ANY);
  if (anyA && anyB) return [{ id: ANY }];
  if (anyA) return [...b];
  if (anyB) return [...a];
  const mixins = new Map(a.map((s) => [s.id, s.mixins ?? []]));
  return b.flatMap((s) => {
    const theirs = mixins.get(s.id);
    if (!theirs) return [];
    return [{ id: s.id, ...mixinsOf([...theirs, ...(s.mixins ?? [])]) }];
  });
}

function mixinsOf(list: readonly string[]): { mixins?: string[] } {
  const mixins = [...new Set(list)].sort();
  return mixins.length ? { mixins } : {};
}
