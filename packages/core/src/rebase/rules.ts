/**
 * What a rebase may do (shared/spec/platform.md section 9), decided from the two image configs and the app's
 * lifecycle label alone, so that every rule is testable without a registry. A refusal is a RebaseRefused
 * error; what `-force` overrides comes back as warnings.
 *
 * App images from Platform API >= 0.12 (their `CNB_PLATFORM_API` env): `io.buildpacks.rebasable` must not be
 * "false", and the new base's target must satisfy the app's. Older app images: same stack ID and every
 * mixin; `-force` does not bypass those. Then (the rebaser itself always runs at >= 0.12) the new run image
 * must be one the label names, compared as the Go lifecycle does: by normalised repository, tag and
 * digest ignored.
 */
import type { ImageConfig } from "../image/oci.js";
import { parseReference, referenceName } from "../image/reference.js";
import { apiAtLeast, isApiVersion } from "../spec/api-version.js";
import type { LifecycleMetadata } from "../spec/kinds/label-lifecycle-metadata.js";

export const LABEL = {
  metadata: "io.buildpacks.lifecycle.metadata",
  rebasable: "io.buildpacks.rebasable",
  stackId: "io.buildpacks.stack.id",
  mixins: "io.buildpacks.stack.mixins",
  baseId: "io.buildpacks.base.id",
  distroName: "io.buildpacks.base.distro.name",
  distroVersion: "io.buildpacks.base.distro.version",
} as const;

/** A rule the images break; the phase ends with the rebase exit code. */
export class RebaseRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RebaseRefused";
  }
}

/** Target data as the Go lifecycle spells it in messages (files.TargetMetadata as JSON). */
export interface TargetMetadata {
  readonly id: string;
  readonly os: string;
  readonly arch: string;
  readonly "arch-variant": string;
  readonly distribution?: { readonly name: string; readonly version: string };
}

export function labelsOfConfig(config: ImageConfig): Readonly<Record<string, string>> {
  return config.config?.Labels ?? {};
}

/** An image's target: config os/architecture/variant, distro and ID from the base labels. */
export function targetOf(config: ImageConfig): TargetMetadata {
  const labels = labelsOfConfig(config);
  const name = labels[LABEL.distroName];
  const version = labels[LABEL.distroVersion];
  return {
    id: labels[LABEL.baseId] ?? "",
    os: config.os,
    arch: config.architecture,
    "arch-variant": config.variant ?? "",
    ...(name !== undefined || version !== undefined
      ? { distribution: { name: name ?? "", version: version ?? "" } }
      : {}),
  };
}

const wildcardMatch = (a: string, b: string) => a === "" || b === "" || a === b;

/**
 * Whether the new base can carry the app: os and arch equal, variant equal when both have one; a distro on
 * the new base needs one on the app, with the same name and version where the new base states them.
 */
export function targetSatisfiedForRebase(newBase: TargetMetadata, app: TargetMetadata): boolean {
  if (newBase.os !== app.os || newBase.arch !== app.arch) return false;
  if (!wildcardMatch(newBase["arch-variant"], app["arch-variant"])) return false;
  const want = newBase.distribution;
  if (want) {
    const have = app.distribution;
    if (!have) return false;
    if (want.name !== "" && want.name !== have.name) return false;
    if (want.version !== "" && want.version !== have.version) return false;
  }
  return true;
}

/** The value of `key` in a config's Env, "" when unset. */
export function envOf(config: ImageConfig, key: string): string {
  for (const entry of config.config?.Env ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0 && entry.slice(0, eq) === key) return entry.slice(eq + 1);
  }
  return "";
}

/** Whether `name` is the label's run image or one of its mirrors (`runImage`, else legacy `stack.runImage`). */
export function runImageNamed(metadata: LifecycleMetadata | undefined, name: string): boolean {
  const repo = (ref: string) => {
    try {
      return referenceName(parseReference(ref));
    } catch {
      return ref;
    }
  };
  const wanted = repo(name);
  const lists = [metadata?.runImage, metadata?.stack?.runImage];
  return lists.some(
    (entry) =>
      !!entry &&
      [entry.image ?? "", ...(entry.mirrors ?? [])].some(
        (candidate) => candidate && repo(candidate) === wanted,
      ),
  );
}

/** The label's run image record for a message, as Go prints it; "not found" when there is none. */
function describeRunImageMetadata(metadata: LifecycleMetadata | undefined): string {
  const run = metadata?.runImage;
  if (run?.image) {
    return JSON.stringify({
      topLayer: run.topLayer ?? "",
      reference: run.reference ?? "",
      image: run.image,
      ...(run.mirrors?.length ? { mirrors: run.mirrors } : {}),
    });
  }
  const stack = metadata?.stack?.runImage;
  if (metadata?.stack) {
    return JSON.stringify({
      image: stack?.image ?? "",
      ...(stack?.mirrors?.length ? { mirrors: stack.mirrors } : {}),
    });
  }
  return "not found";
}

function mixinsOf(config: ImageConfig, which: string): string[] {
  const text = labelsOfConfig(config)[LABEL.mixins];
  if (text === undefined || text === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((m) => typeof m === "string")) {
    throw new RebaseRefused(`get ${which} mixins: label ${LABEL.mixins} is not a JSON array of strings`);
  }
  return value.map((m: string) => m.replace(/^(build|run):/, ""));
}

function checkLegacy(app: ImageConfig, newBase: ImageConfig): void {
  const appStack = labelsOfConfig(app)[LABEL.stackId] ?? "";
  const newStack = labelsOfConfig(newBase)[LABEL.stackId] ?? "";
  if (appStack === "") throw new RebaseRefused("stack not defined on app image");
  if (newStack === "") throw new RebaseRefused("stack not defined on new base image");
  if (appStack !== newStack) {
    throw new RebaseRefused(`incompatible stack: '${newStack}' is not compatible with '${appStack}'`);
  }
  const have = new Set(mixinsOf(newBase, "run image"));
  const missing = [...new Set(mixinsOf(app, "app image"))].filter((m) => !have.has(m)).sort();
  if (missing.length > 0) throw new RebaseRefused(`missing required mixin(s): ${missing.join(", ")}`);
}

export interface RebaseCheck {
  readonly app: ImageConfig;
  readonly newBase: ImageConfig;
  /** The new run image's name, as the platform gave it or as chosen from the label. */
  readonly newBaseName: string;
  readonly metadata: LifecycleMetadata | undefined;
  readonly force: boolean;
  /** How refusals name the override: the lifecycle's `-force` (default), or a platform's own flag. */
  readonly forceFlag?: string;
}

export interface RebaseDecision {
  /** What -force overrode. */
  readonly warnings: readonly string[];
  /** The app's Platform API is < 0.12 (or unset): the stack rules were applied instead of the target ones. */
  readonly legacy: boolean;
  /** The new run image is not in the label (allowed by -force): the label is to name it instead. */
  readonly renameRunImage: boolean;
  /** The target check failed and -force overrode it. */
  readonly targetForced: boolean;
}

/** Applies every rule in the Go lifecycle's order; throws RebaseRefused for the first one broken. */
export function checkRebase(input: RebaseCheck): RebaseDecision {
  const { app, newBase, force } = input;
  const override = `please provide ${input.forceFlag ?? "-force"} to override`;
  const warnings: string[] = [];
  const appApi = envOf(app, "CNB_PLATFORM_API");
  if (appApi !== "" && !isApiVersion(appApi)) {
    throw new RebaseRefused(`the app image's CNB_PLATFORM_API "${appApi}" is not a Platform API version`);
  }
  const legacy = appApi === "" || !apiAtLeast(appApi, "0.12");
  let targetForced = false;
  if (legacy) {
    checkLegacy(app, newBase);
  } else {
    if (labelsOfConfig(app)[LABEL.rebasable] === "false") {
      const problem = "app image is not marked as rebasable";
      if (!force) throw new RebaseRefused(`${problem}; ${override}`);
      warnings.push(problem);
    }
    const appTarget = targetOf(app);
    const newTarget = targetOf(newBase);
    if (!targetSatisfiedForRebase(newTarget, appTarget)) {
      const problem = `unable to satisfy target os/arch constraints; new run image: ${JSON.stringify(newTarget)}, old run image: ${JSON.stringify(appTarget)}`;
      if (!force) throw new RebaseRefused(`${problem}; ${override}`);
      warnings.push(problem);
      targetForced = true;
    }
  }
  let renameRunImage = false;
  if (!runImageNamed(input.metadata, input.newBaseName)) {
    const problem = `new base image '${input.newBaseName}' not found in existing run image metadata: ${describeRunImageMetadata(input.metadata)}`;
    if (!force) throw new RebaseRefused(`${problem}; ${override}`);
    warnings.push(problem);
    renameRunImage = true;
  }
  return { warnings, legacy, renameRunImage, targetForced };
}
