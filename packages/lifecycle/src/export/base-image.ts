/**
 * What the app image is built on (shared/spec/platform.md 4.6 "Base"): the run image, or, when analyzed.toml
 * says `run-image.extend`, the extended run image that the platform wrote to `<extended>/run/<digest>/`
 * (extensions.md 6): its whole config (env, user, labels with io.buildpacks.rebasable, the extensions'
 * history) over the run image's layers and then the extensions' layers. That layout is sparse: a layer
 * whose blob it has is an extension's, the others are the run image's.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type ImageConfig,
  type LayerToWrite,
  layerForDiffId,
  MediaType,
  OciLayout,
  openLayoutImage,
  type SourceImage,
} from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";

export interface BaseImage {
  /** The config the app image's config starts from. */
  readonly config: ImageConfig;
  /** Its layers, bottom first, kept as they are. */
  readonly layers: readonly LayerToWrite[];
  /** How many of them extensions added (on top of the run image's). */
  readonly extensionLayers: number;
}

const fail = (message: string): never => {
  throw new LifecycleError(ExitCode.export, `exporter: ${message}`);
};

/** The run image as it is. */
export function runImageBase(runImage: SourceImage): BaseImage {
  const diffIds = runImage.config.rootfs.diff_ids;
  if (diffIds.length !== runImage.manifest.layers.length) {
    fail(
      `run image ${runImage.identifier} has ${runImage.manifest.layers.length} layers but ${diffIds.length} diff IDs`,
    );
  }
  const layers = runImage.manifest.layers.map((descriptor, i) => ({
    descriptor,
    diffId: diffIds[i] as string,
    origin: { kind: "image", image: runImage } as const,
  }));
  return { config: runImage.config, layers, extensionLayers: 0 };
}

/** The one image dir in `<extended>/run`: anything else there is a platform error worth naming. */
export async function extendedRunImageDir(extendedDir: string): Promise<string> {
  const runDir = join(extendedDir, "run");
  const entries = await readdir(runDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  if (entries.length !== 1) {
    fail(
      `run-image.extend is set in analyzed.toml, so ${runDir} must hold exactly one extended run image (an OCI layout named by its manifest digest), but it ${entries.length === 0 ? "has none" : `has ${entries.length}: ${entries.sort().join(", ")}`}`,
    );
  }
  return join(runDir, entries[0] as string);
}

/**
 * The extended run image in `dir` over `runImage`. Extension layers are given `docker` media types when the
 * app image gets a Docker manifest (the run image's flavour), as new layers are.
 */
export async function extendedBase(dir: string, runImage: SourceImage, docker: boolean): Promise<BaseImage> {
  const extended =
    (await openLayoutImage(dir, `extended run image ${dir}`)) ??
    fail(`the extended run image ${dir} is not an OCI image layout holding one image`);
  const present = await (await OciLayout.open(dir)).layerPresence(extended.manifest);
  const { manifest, config } = extended;
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    fail(`the extended run image ${dir} has ${manifest.layers.length} layers but ${diffIds.length} diff IDs`);
  }
  const runDiffIds = runImage.config.rootfs.diff_ids;
  if (runDiffIds.some((diffId, i) => diffIds[i] !== diffId)) {
    fail(
      `the extended run image ${dir} is not built on the run image ${runImage.identifier} (run-image.reference): its bottom layers are not the run image's`,
    );
  }
  const base = runImageBase(runImage);
  const added = manifest.layers.slice(runDiffIds.length).map((descriptor, n): LayerToWrite => {
    const i = runDiffIds.length + n;
    const diffId = diffIds[i] as string;
    if (present[i]) {
      const mediaType =
        docker && descriptor.mediaType === MediaType.ociLayerGzip
          ? MediaType.dockerLayerGzip
          : descriptor.mediaType;
      return { descriptor: { ...descriptor, mediaType }, diffId, origin: { kind: "image", image: extended } };
    }
    const own = layerForDiffId(runImage.manifest, runImage.config, diffId);
    if (own) return { descriptor: own, diffId, origin: { kind: "image", image: runImage } };
    return fail(
      `the extended run image ${dir} lists layer ${descriptor.digest} (diff ID ${diffId}) without its blob, and the run image ${runImage.identifier} does not have it either: the platform must write every extension layer's blob`,
    );
  });
  return { config, layers: [...base.layers, ...added], extensionLayers: added.length };
}
