/**
 * Order resolution (shared/spec/buildpack.md 3.1): groups are walked depth-first, left to right. A composite
 * buildpack, or the extensions order, at position i is replaced by each of its groups in turn followed by the
 * rest of the group, the first path that passes winning; when none passes and it is optional, the path goes on
 * without it. An element whose kind and id is already on the path is skipped. Component modules are checked
 * (Buildpack API, exec-env, targets) and their detects started as soon as they join the path, so the detects of
 * one path run concurrently; each module's detect runs once per detector run.
 */
import { apiAtLeast, type BuildpackDescriptor, type ExtensionDescriptor } from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import type { Module, ModuleStore } from "../modules/store.js";
import { buildpackApiSupported, SUPPORTED_BUILDPACK_APIS } from "../platform/api.js";
import { evaluateGroup } from "./evaluate-group.js";
import type { ModuleRef, Order, OrderElement } from "./order.js";
import type { PlanEntry } from "./resolve-plan.js";
import type { DetectRun } from "./run-detect.js";
import { type BaseTarget, describeTarget, moduleTargets, targetMatches } from "./targets.js";

/** A module on the selected path. */
export interface DetectedModule extends ModuleRef {
  readonly module: Module;
}

export type OrderOutcome =
  | { readonly passed: true; readonly modules: DetectedModule[]; readonly entries: PlanEntry[] }
  | { readonly passed: false };

export interface OrderDetectorOptions {
  readonly store: ModuleStore;
  readonly detect: (module: Module) => Promise<DetectRun>;
  readonly platformApi: string;
  readonly execEnv: string;
  readonly target: BaseTarget;
  readonly log: Log;
}

/** A path element and the composite buildpacks it was expanded from (to refuse a composite that nests itself). */
interface PathElement {
  readonly element: OrderElement;
  readonly via: readonly string[];
}

const fail = (message: string, code: number = ExitCode.detect): never => {
  throw new LifecycleError(code, `detector: ${message}`);
};

export class OrderDetector {
  private readonly runs = new Map<string, Promise<DetectRun>>();
  /** Some module errored in a group that did not pass: no group passing then means exit 21, not 20. */
  errored = false;

  constructor(private readonly o: OrderDetectorOptions) {}

  /** The first passing group of `order`; a missing or unreadable module, or an unsupported API, throws. */
  detect(order: Order): Promise<OrderOutcome> {
    return this.detectOrder(pathOf(order), [], [], false);
  }

  /** Looks a module up, refusing it (exit 12) when this lifecycle does not implement its Buildpack API. */
  async lookup(ref: Pick<ModuleRef, "kind" | "id" | "version">): Promise<Module> {
    let module: Module;
    try {
      module = await this.o.store.get(ref.kind, ref.id, ref.version);
    } catch (err) {
      return fail((err as Error).message);
    }
    if (!buildpackApiSupported(module.api)) {
      fail(
        `${ref.kind} ${ref.id}@${ref.version} uses Buildpack API ${module.api} (api in ${module.descriptorPath}), which this lifecycle does not support (it supports ${SUPPORTED_BUILDPACK_APIS.join(", ")})`,
        ExitCode.incompatibleBuildpackApi,
      );
    }
    return module;
  }

  private async detectOrder(
    order: readonly (readonly PathElement[])[],
    done: readonly DetectedModule[],
    next: readonly PathElement[],
    optional: boolean,
  ): Promise<OrderOutcome> {
    for (const group of order) {
      const outcome = await this.detectGroup([...group, ...next], done);
      if (outcome.passed) return outcome;
    }
    if (optional) return this.detectGroup(next, done);
    return { passed: false };
  }

  private async detectGroup(group: readonly PathElement[], doneBefore: readonly DetectedModule[]) {
    const done = [...doneBefore];
    for (const [i, { element, via }] of group.entries()) {
      const rest = group.slice(i + 1);
      if (element.kind === "extensions-order") {
        return this.detectOrder(pathOf(element.order), done, rest, true);
      }
      if (done.some((d) => d.kind === element.kind && d.id === element.id)) continue;
      const module = await this.lookup(element);
      const composite = element.kind === "buildpack" && (module.descriptor as BuildpackDescriptor).order;
      if (composite && composite.length > 0) {
        const name = `${element.id}@${element.version}`;
        if (via.includes(name)) fail(`composite buildpack ${[...via, name].join(" -> ")} includes itself`);
        return this.detectOrder(this.compositeOrder(module, [...via, name]), done, rest, element.optional);
      }
      if (!this.supportsExecEnv(element, module)) continue;
      done.push({ ...element, module });
      await this.start(element, module);
    }
    const runs = await Promise.all(done.map((d) => this.runs.get(key(d)) as Promise<DetectRun>));
    const outcome = evaluateGroup(done, runs, this.o.log);
    if (!outcome.passed) {
      if (outcome.errored) this.errored = true;
      return { passed: false } as const;
    }
    return outcome;
  }

  /** A composite's `[[order]]`, each entry needing a version to be found. */
  private compositeOrder(module: Module, via: readonly string[]): PathElement[][] {
    const order = (module.descriptor as BuildpackDescriptor).order ?? [];
    return order.map((g, i) =>
      g.group.map((e, j) => {
        if (!e.version) {
          fail(`${module.descriptorPath}: order[${i}].group[${j}] (${e.id}) has no version`);
        }
        const ref: ModuleRef = {
          kind: "buildpack",
          id: e.id,
          version: e.version as string,
          optional: e.optional === true,
          ...(e["exec-env"] ? { execEnv: e["exec-env"] } : {}),
        };
        return { element: ref, via };
      }),
    );
  }

  /**
   * Platform API 0.15: a module that declares execution environments (Buildpack API 0.12+), or a group entry
   * that lists them, without `*` or CNB_EXEC_ENV, is skipped as if absent.
   */
  private supportsExecEnv(ref: ModuleRef, module: Module): boolean {
    if (!apiAtLeast(this.o.platformApi, "0.15") || !this.o.execEnv) return true;
    const declared = apiAtLeast(module.api, "0.12") ? execEnvNames(module) : [];
    for (const list of [declared, ref.execEnv ?? []]) {
      if (list.length > 0 && !list.includes("*") && !list.includes(this.o.execEnv)) {
        this.o.log.debug(
          `Skipping ${ref.id}@${ref.version} due to execution environment mismatch; current: ${this.o.execEnv}, supported: ${list.join(", ")}`,
        );
        return false;
      }
    }
    return true;
  }

  /** Starts a module's detect unless it already ran; a module whose targets miss the run image errors instead. */
  private async start(ref: ModuleRef, module: Module): Promise<void> {
    const k = key(ref);
    if (this.runs.has(k)) return;
    const targets = await moduleTargets(module);
    if (targets.length > 0 && !targets.some((t) => targetMatches(this.o.target, t))) {
      const error = `${ref.kind} ${ref.id}@${ref.version}: no target in ${module.descriptorPath} matches the run image (${describeTarget(this.o.target)}); it supports ${targets.map(describeTarget).join(", ")}`;
      this.runs.set(k, Promise.resolve({ code: -1, output: "", error }));
      return;
    }
    this.runs.set(k, this.o.detect(module));
  }
}

const pathOf = (order: Order): PathElement[][] =>
  order.map((g) => g.map((element) => ({ element, via: [] })));

const key = (ref: Pick<ModuleRef, "kind" | "id" | "version">) => `${ref.kind} ${ref.id}@${ref.version}`;

/** exec-env in either spelling: `exec-env = ["test"]` or `[[buildpack.exec-env]] name = "test"`. */
function execEnvNames(module: Module): string[] {
  const info =
    module.kind === "buildpack"
      ? (module.descriptor as BuildpackDescriptor).buildpack
      : (module.descriptor as ExtensionDescriptor).extension;
  return (info["exec-env"] ?? []).map((e) => (typeof e === "string" ? e : e.name));
}
