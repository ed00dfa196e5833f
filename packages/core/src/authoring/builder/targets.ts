/**
 * Targets must agree (distribution.md 3.1): the build image's os/arch must be one of builder.toml's
 * `[[targets]]`, and one of each module's declared targets (a module that declares none runs anywhere).
 */
import type { Problem } from "../../errors.js";
import type { SourceImage } from "../../image/index.js";
import type { BuilderConfig } from "../../spec/index.js";
import type { ConfigFile } from "../config-file.js";
import type { TargetPlatform } from "../context.js";
import type { ModuleSet } from "../module-set.js";
import { moduleKey } from "../modules.js";

interface TargetLike {
  os?: string;
  arch?: string;
  variant?: string;
  "arch-variant"?: string;
}

/** Whether a declared target admits a platform (an image's config, or the platform packaged for). */
export const fitsPlatform = (t: TargetLike, platform: TargetPlatform) => {
  const { os, architecture, variant } = platform;
  const v = t.variant ?? t["arch-variant"];
  return (!t.os || t.os === os) && (!t.arch || t.arch === architecture) && (!v || !variant || v === variant);
};

const fits = (t: TargetLike, image: SourceImage) => fitsPlatform(t, image.config);

export const showTarget = (t: TargetLike) =>
  [t.os ?? "*", t.arch ?? "*", t.variant ?? t["arch-variant"]].filter(Boolean).join("/");

export const showPlatform = (p: TargetPlatform) =>
  [p.os, p.architecture, p.variant].filter(Boolean).join("/");

const platformOf = (image: SourceImage) => showPlatform(image.config);

export function targetProblems(file: ConfigFile<BuilderConfig>, buildImage: SourceImage): Problem[] {
  const targets = file.value.targets ?? [];
  if (targets.length === 0 || targets.some((t) => fits(t, buildImage))) return [];
  return [
    file.problem(
      ["targets"],
      `(${targets.map(showTarget).join(", ")}) does not include the build image's platform ${platformOf(buildImage)}`,
    ),
  ];
}

export function moduleTargetProblems(
  file: ConfigFile<BuilderConfig>,
  set: ModuleSet,
  buildImage: SourceImage,
): Problem[] {
  return set.sourced().flatMap(({ module, path }) => {
    const targets = module.layerInfo.targets ?? [];
    if (targets.length === 0 || targets.some((t) => fits(t, buildImage))) return [];
    return [
      file.problem(
        path,
        `${module.kind} ${moduleKey(module.info)} runs on ${targets.map(showTarget).join(", ")}, not on the build image's ${platformOf(buildImage)}`,
      ),
    ];
  });
}
