/**
 * An image that may be an image index (a builder or buildpackage per target): every image's target, read from
 * its config (os, arch, variant and the distro labels `io.buildpacks.base.distro.*`), and the config of the one
 * wanted: the `--platform` asked for (refused when the image has none for it), else the host's, else the first.
 */
import { CnbpError } from "../errors.js";
import type { PlatformWanted } from "../image/layout/reader.js";
import {
  type Descriptor,
  type ImageConfig,
  type Index,
  MANIFEST_TYPES,
  type Manifest,
} from "../image/oci.js";
import type { InspectedImage } from "./image-source.js";
import { type TargetSummary, targetSummary } from "./modules.js";
import { hostPlatform, isPlatform, platformText, targetPlatformText } from "./platform.js";

/** Where the manifests and configs of one image (or index) are read: a registry, a layout. */
export interface ManifestSource {
  /** The document the image's name points to. */
  top(): Promise<{ readonly index: Index } | { readonly manifest: Manifest }>;
  manifest(descriptor: Descriptor): Promise<Manifest>;
  config(manifest: Manifest): Promise<ImageConfig>;
}

/** The platform wanted, and whether the user asked for it (then an image without it is an error). */
export interface PlatformChoice {
  readonly platform: PlatformWanted;
  readonly asked: boolean;
}

export const defaultChoice = (): PlatformChoice => ({ platform: hostPlatform(), asked: false });

export interface ReadIndexed {
  readonly config: ImageConfig;
  /** Every image's target when the name points to an index; the config is of one of them. */
  readonly index?: readonly TargetSummary[];
}

export async function readIndexed(
  source: ManifestSource,
  name: string,
  choice: PlatformChoice,
): Promise<ReadIndexed> {
  const top = await source.top();
  if ("manifest" in top) {
    const config = await source.config(top.manifest);
    choosePlatform([imageTarget(config)], name, choice);
    return { config };
  }
  const images = top.index.manifests.filter(isPlatformImage);
  if (images.length === 0) {
    throw new CnbpError("CNBP_NOT_AN_IMAGE", `${name}: the image index lists no image manifest`);
  }
  const configs = await Promise.all(images.map(async (d) => source.config(await source.manifest(d))));
  const targets = configs.map((c, i) => imageTarget(c, images[i]?.platform?.variant));
  return { config: configs[choosePlatform(targets, name, choice)] as ImageConfig, index: targets };
}

/** The target an image's config says it is for, with the distro its labels name. */
export function imageTarget(config: ImageConfig, variant?: string): TargetSummary {
  const labels = config.config?.Labels ?? {};
  const distro = {
    name: labels["io.buildpacks.base.distro.name"],
    version: labels["io.buildpacks.base.distro.version"],
  };
  return targetSummary({
    os: config.os,
    arch: config.architecture,
    variant: config.variant ?? variant,
    distros: distro.name || distro.version ? [distro] : [],
  });
}

/**
 * Which of an image's targets is the platform wanted; when it was not asked for, the first stands in for a
 * missing one, else the image not having it is an error naming `--platform` and the targets there are.
 */
export function choosePlatform(
  targets: readonly TargetSummary[],
  name: string,
  choice: PlatformChoice,
): number {
  const found = targets.findIndex((t) => isPlatform(t, choice.platform));
  if (found >= 0 || !choice.asked) return Math.max(found, 0);
  const wanted = platformText(choice.platform);
  throw new CnbpError(
    "CNBP_PLATFORM_NOT_FOUND",
    `--platform ${wanted}: ${name} has no image for ${wanted}; it has ${targets.map(targetPlatformText).join(", ")}: give one of these`,
  );
}

/** An index entry that is an image for a platform (not an attestation manifest, whose platform is unknown/unknown). */
const isPlatformImage = (d: Descriptor) =>
  MANIFEST_TYPES.includes(d.mediaType) && d.platform?.os !== "unknown";

/** What inspect shows of an image index: every image's target, and the one the rest of the output is of. */
export interface IndexSummary {
  readonly targets: readonly TargetSummary[];
  readonly shown: TargetSummary;
}

/** `{ index }` for an image read from an index, nothing for a single image. */
export function indexOf(image: InspectedImage): { index?: IndexSummary } {
  return image.index ? { index: { targets: image.index, shown: imageTarget(image.config) } } : {};
}
