/**
 * Group evaluation (shared/spec/buildpack.md 3.2) once every detect of a path has run: each module's output
 * in group order, the results, then build plan resolution over the modules that passed. Log lines are the Go
 * lifecycle's, so platforms and users see the same detection report.
 */
import type { Log } from "../log.js";
import type { ModuleRef } from "./order.js";
import { type PlanEntry, refName, resolvePlan } from "./resolve-plan.js";
import { type DetectRun, FAIL, PASS } from "./run-detect.js";

export type GroupOutcome<M extends ModuleRef> =
  | { readonly passed: true; readonly modules: M[]; readonly entries: PlanEntry[] }
  | { readonly passed: false; readonly errored: boolean };

/**
 * Passes when every required module passed, at least one buildpack passed, and a plan resolves; optional
 * modules that failed or errored are left out. Errored modules' output is logged at info, the rest at debug.
 */
export function evaluateGroup<M extends ModuleRef>(
  done: readonly M[],
  runs: readonly DetectRun[],
  log: Log,
): GroupOutcome<M> {
  for (const [i, ref] of done.entries()) {
    const run = runs[i] as DetectRun;
    const show = run.code === PASS || run.code === FAIL ? log.debug : log.info;
    if (run.output.length > 0) {
      show(`======== Output: ${refName(ref)} ========`);
      show(run.output.replace(/\n$/, ""));
    }
    if (run.error) {
      show(`======== Error: ${refName(ref)} ========`);
      show(run.error);
    }
  }

  log.debug("======== Results ========");
  const participants = [];
  let detected = true;
  let errored = false;
  for (const [i, ref] of done.entries()) {
    const run = runs[i] as DetectRun;
    if (run.code === PASS) {
      log.debug(`pass: ${refName(ref)}`);
      participants.push({ ref, plan: run.plan ?? {} });
      continue;
    }
    if (run.code === FAIL) log.debug(`${ref.optional ? "skip" : "fail"}: ${refName(ref)}`);
    else {
      log.info(run.code === -1 ? `err:  ${refName(ref)}` : `err:  ${refName(ref)} (${run.code})`);
      errored = true;
    }
    detected &&= ref.optional;
  }
  if (!detected) return { passed: false, errored };
  if (!participants.some((p) => p.ref.kind === "buildpack")) {
    log.debug("fail: no viable buildpacks in group");
    return { passed: false, errored: false };
  }

  const resolved = resolvePlan(participants, log);
  if (!resolved) return { passed: false, errored: false };
  if (resolved.modules.length !== done.length) {
    log.info(`${resolved.modules.length} of ${done.length} buildpacks participating`);
  }
  const width = Math.max(...resolved.modules.map((m) => m.id.length));
  for (const m of resolved.modules) log.info(`${m.id.padEnd(width)} ${m.version}`);
  return { passed: true, ...resolved };
}
