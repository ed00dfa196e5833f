/**
 * The modules going into one image, by kind, id and version: a module given twice with the same layer is
 * kept once; twice with different content is an error. Order entries are resolved against the set (a
 * missing version is inferred when exactly one is there), as pack does.
 */
import type { Problem } from "../errors.js";
import type { ModuleKind } from "./module-layer.js";
import { moduleKey, type ResolvedModule } from "./modules.js";

export interface Sourced {
  readonly module: ResolvedModule;
  /** Field path of the entry that brought it in, for problems. */
  readonly path: readonly (string | number)[];
}

export class ModuleSet {
  private readonly byKey = new Map<string, Sourced>();

  /** Adds a module; returns a problem message when the same id and version already came with other content. */
  add(entry: Sourced): string | undefined {
    const { module } = entry;
    const key = `${module.kind} ${moduleKey(module.info)}`;
    const had = this.byKey.get(key);
    if (!had) {
      this.byKey.set(key, entry);
      return undefined;
    }
    if (had.module.layer.diffId === module.layer.diffId) return undefined;
    return `${module.kind} ${moduleKey(module.info)} from ${JSON.stringify(module.from)} differs from the one from ${JSON.stringify(had.module.from)} (layers ${module.layer.diffId} and ${had.module.layer.diffId}): give each id and version once`;
  }

  all(kind?: ModuleKind): ResolvedModule[] {
    return [...this.byKey.values()]
      .map((e) => e.module)
      .filter((m) => kind === undefined || m.kind === kind)
      .sort((a, b) => compare(moduleKey(a.info), moduleKey(b.info)));
  }

  sourced(): Sourced[] {
    return [...this.byKey.values()];
  }

  versionsOf(kind: ModuleKind, id: string): string[] {
    return this.all(kind)
      .filter((m) => m.info.id === id)
      .map((m) => m.info.version);
  }

  /** The version an order entry means, or a problem message. */
  resolve(
    kind: ModuleKind,
    id: string,
    version: string | undefined,
  ): { version: string } | { problem: string } {
    const versions = this.versionsOf(kind, id);
    if (version !== undefined) {
      if (versions.includes(version)) return { version };
      const have = versions.length ? ` (there is ${versions.join(", ")})` : "";
      return { problem: `names ${kind} ${id}@${version}, which is not in the ${kind}s given${have}` };
    }
    if (versions.length === 1) return { version: versions[0] as string };
    if (versions.length === 0) return { problem: `names ${kind} ${id}, which is not in the ${kind}s given` };
    return {
      problem: `names ${kind} ${id} without a version, but there are ${versions.join(", ")}: give one`,
    };
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Problems of composite buildpacks whose order names a buildpack the set does not have. */
export function compositeProblems(
  set: ModuleSet,
  problem: (path: readonly (string | number)[], message: string) => Problem,
): Problem[] {
  const problems: Problem[] = [];
  for (const { module, path } of set.sourced()) {
    for (const group of module.layerInfo.order ?? []) {
      for (const entry of group.group) {
        const found = set.resolve("buildpack", entry.id, entry.version);
        if ("problem" in found) {
          problems.push(
            problem(path, `composite buildpack ${moduleKey(module.info)}'s order ${found.problem}`),
          );
        }
      }
    }
  }
  return problems;
}
