/**
 * The target data analyzed.toml records for a run image (files.md 1.6): os, arch and variant from its
 * config, id and distro from its io.buildpacks.base.* labels. The analyzer records it for the run image it
 * chose, the restorer for a run image that extensions switched or that is to be extended.
 */
import { labelsOf, type RunImageTarget, type SourceImage } from "@cnbp/core";

/** The target, or undefined when the image's config names no os (no target can be told then). */
export function runImageTarget(image: SourceImage): RunImageTarget | undefined {
  const { config } = image;
  if (!config.os) return undefined;
  const labels = labelsOf(image);
  const distroName = labels["io.buildpacks.base.distro.name"];
  const distroVersion = labels["io.buildpacks.base.distro.version"];
  return {
    id: labels["io.buildpacks.base.id"],
    os: config.os,
    arch: config.architecture,
    "arch-variant": config.variant,
    distro: distroName || distroVersion ? { name: distroName, version: distroVersion } : undefined,
  };
}
