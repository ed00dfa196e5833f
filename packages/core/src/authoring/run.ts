/** Runs one authoring job: its context (registry, cache, scratch dir that is always removed) and its result. */
import type { Problem } from "../errors.js";
import {
  type BlobTransfer,
  type ImageToSave,
  type LayerToWrite,
  RegistryBackend,
  type RegistryClient,
  type SavedImage,
} from "../image/index.js";
import type { AuthoringContext, ImageReader, TargetPlatform } from "./context.js";
import { LayerCache } from "./layer-cache.js";
import { describeOutput, type Output, saveImage, saveImageIndex } from "./output.js";
import { withScratch } from "./scratch.js";

export interface AuthoringOptions {
  readonly registry: RegistryClient;
  /** Where images named by reference are read; default their registries. */
  readonly images?: ImageReader;
  /** Where layers made from directories are kept between runs; none: always made again. */
  readonly cacheDir?: string;
  /** Parent of the run's scratch dir; default the OS temp dir. */
  readonly tmpDir?: string;
  /** The platform picked from image indexes; default linux/amd64. */
  readonly platform?: TargetPlatform;
}

export interface WrittenLayer {
  /** What the layer holds, e.g. `buildpack example/node@1.0.0`. */
  readonly what: string;
  readonly diffId: string;
  readonly digest: string;
  readonly size: number;
  /** `exists`: the destination had it; `mounted`; `written`: sent or copied. */
  readonly how: BlobTransfer["how"];
  readonly bytes: number;
}

export interface AuthoredImage {
  readonly name: string;
  /** Where it went: the registry name, `oci:<dir>` or the file. */
  readonly destination: string;
  readonly digest: string;
  /** The layers this job added (a builder's base layers are not listed). */
  readonly layers: readonly WrittenLayer[];
  /** Bytes of layers and config sent or copied, over all layers (base layers included). */
  readonly bytesWritten: number;
  readonly warnings: readonly Problem[];
}

export function withAuthoring<T>(
  options: AuthoringOptions,
  fn: (ctx: AuthoringContext) => Promise<T>,
): Promise<T> {
  return withScratch(
    (scratch) =>
      fn({
        registry: options.registry,
        images:
          options.images ?? ((ref, platform) => new RegistryBackend(options.registry, platform).find(ref)),
        cache: new LayerCache(options.cacheDir),
        scratch,
        platform: options.platform ?? { os: "linux", architecture: "amd64" },
      }),
    options.tmpDir,
  );
}

/** Saves the image where `output` says and reports it, with the layers this job `added` (its last ones). */
export async function saveAuthored(
  image: ImageToSave,
  output: Output,
  ctx: AuthoringContext,
  added: readonly { what: string; layer: LayerToWrite }[],
  warnings: readonly Problem[],
): Promise<AuthoredImage> {
  const saved = await saveImage(image, output, ctx.registry, ctx.scratch);
  return {
    name: output.name,
    destination: describeOutput(output),
    digest: saved.digest,
    layers: writtenLayers(added, saved),
    bytesWritten: saved.bytesWritten,
    warnings,
  };
}

/** One image of a multi-platform result: its platform, the image, and the layers this job added. */
export interface PlatformImage {
  readonly platform: string;
  readonly image: ImageToSave;
  readonly added: readonly { what: string; layer: LayerToWrite }[];
}

/** Saves the images as one image index where `output` says; each added layer is reported with its platform. */
export async function saveAuthoredIndex(
  images: readonly PlatformImage[],
  output: Output,
  ctx: AuthoringContext,
  warnings: readonly Problem[],
): Promise<AuthoredImage> {
  const { digest, saved } = await saveImageIndex(
    images.map((i) => i.image),
    output,
    ctx.registry,
  );
  return {
    name: output.name,
    destination: describeOutput(output),
    digest,
    layers: images.flatMap(({ platform, added }, i) =>
      writtenLayers(
        added.map((a) => ({ ...a, what: `${a.what} (${platform})` })),
        saved[i] as SavedImage,
      ),
    ),
    bytesWritten: saved.reduce((sum, s) => sum + s.bytesWritten, 0),
    warnings,
  };
}

/** The added layers' report, from the saved image's transfers (the added layers are the last ones). */
function writtenLayers(
  added: readonly { what: string; layer: LayerToWrite }[],
  saved: SavedImage,
): WrittenLayer[] {
  const offset = saved.layers.length - added.length;
  return added.map(({ what, layer }, i) => {
    const t = saved.layers[offset + i] as BlobTransfer;
    return {
      what,
      diffId: layer.diffId,
      digest: layer.descriptor.digest,
      size: layer.descriptor.size,
      how: t.how,
      bytes: t.bytes,
    };
  });
}
