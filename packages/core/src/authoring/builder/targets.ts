/**
 * Targets must agree (distribution.md 3.1): the build image's os/arch must be one of builder.toml's
 * `[[targets]]`, and one of each module's declared targets (a module that declares none runs anywhere).
 * With several targets, as pack does, a builder is made for each (the build image must have that platform).
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

/**
 * The platforms builders are made for: one per `[[targets]]` platform when there are several and the
 * destination takes an image index; else the one asked for (`--target`, default linux/amd64), with a note
 * when that leaves targets out.
 */
export function builderPlatforms(
  file: ConfigFile<BuilderConfig>,
  asked: TargetPlatform,
  onePlatform: boolean,
): { platforms: TargetPlatform[]; notes: Problem[] } {
  const targets = file.value.targets ?? [];
  const problems: Problem[] = [];
  const platforms = new Map<string, TargetPlatform>();
  for (const [i, t] of targets.entries()) {
    if (!t.arch) {
      problems.push(file.problem(["targets", i], "has no arch: a builder is made for each target's os/arch"));
      continue;
    }
    const platform = {
      os: t.os ?? "linux",
      architecture: t.arch,
      ...(t.variant ? { variant: t.variant } : {}),
    };
    platforms.set(showPlatform(platform), platform);
  }
  if (platforms.size < 2) return { platforms: [asked], notes: [] };
  if (onePlatform) {
    const note = file.problem(
      ["targets"],
      `(${[...platforms.keys()].join(", ")}): the driver's image store takes one image per name, so only the ${showPlatform(asked)} builder is made (--target picks another; --publish or --output oci:<dir> makes them all, as an image index)`,
    );
    return { platforms: [asked], notes: [{ ...note, severity: "warning" }] };
  }
  file.check(problems);
  return { platforms: [...platforms.values()], notes: [] };
}

/** With a builder per target, the build image read for a target must be for that target's platform. */
export function buildImagePlatformProblems(
  file: ConfigFile<BuilderConfig>,
  buildImage: SourceImage,
  platform: TargetPlatform,
  targetIndex: number,
): Problem[] {
  const { os, architecture, variant } = platform;
  if (fits({ os, arch: architecture, ...(variant ? { variant } : {}) }, buildImage)) return [];
  return [
    file.problem(
      ["targets", targetIndex],
      `${showPlatform(platform)}: the build image ${buildImage.name} has no ${showPlatform(platform)} image (it is for ${platformOf(buildImage)}): give a build image with an image for each target`,
    ),
  ];
}
