/**
 * What a buildpackage's composites need (distribution.md 2; pack's checks): every buildpack an order names,
 * by id and version, is among the dependencies, and every dependency is named by some order (the
 * entrypoint's or a composite dependency's), so nothing is packaged that cannot run.
 */
import type { Problem } from "../../errors.js";
import type { Sourced } from "../module-set.js";
import { moduleKey } from "../modules.js";

type ProblemAt = (path: readonly (string | number)[], message: string) => Problem;

export function dependencyProblems(
  entrypoint: Sourced,
  dependencies: readonly Sourced[],
  problem: ProblemAt,
): Problem[] {
  const byKey = new Map(dependencies.map((d) => [moduleKey(d.module.info), d]));
  const used = new Set<string>();
  const problems: Problem[] = [];
  for (const { module, path } of [entrypoint, ...dependencies]) {
    const composite = `composite buildpack ${moduleKey(module.info)}`;
    for (const group of module.layerInfo.order ?? []) {
      for (const entry of group.group) {
        if (!entry.version) {
          problems.push(
            problem(
              path,
              `${composite}'s order names ${entry.id} without a version: a buildpackage needs one`,
            ),
          );
          continue;
        }
        const key = moduleKey(entry);
        if (byKey.has(key)) {
          used.add(key);
          continue;
        }
        const have = dependencies
          .filter((d) => d.module.info.id === entry.id)
          .map((d) => d.module.info.version);
        problems.push(
          problem(
            path,
            `${composite}'s order names buildpack ${key}, which is not among the [[dependencies]]${have.length ? ` (there is ${have.join(", ")})` : ""}`,
          ),
        );
      }
    }
  }
  for (const { module, path } of dependencies) {
    if (!used.has(moduleKey(module.info))) {
      problems.push(
        problem(
          path,
          `buildpack ${moduleKey(module.info)} is in no order of ${moduleKey(entrypoint.module.info)} or its dependencies: a buildpackage holds only buildpacks its entrypoint can run`,
        ),
      );
    }
  }
  return problems;
}
