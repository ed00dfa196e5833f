/** What every authoring step shares: where images come from, the layer cache and the run's scratch dir. */
import type { RegistryClient, SourceImage } from "../image/index.js";
import type { LayerCache } from "./layer-cache.js";
import type { Scratch } from "./scratch.js";

export interface TargetPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Reads the image `ref` names, for `platform` when it is an index; undefined when there is none. */
export type ImageReader = (ref: string, platform: TargetPlatform) => Promise<SourceImage | undefined>;

export interface AuthoringContext {
  readonly registry: RegistryClient;
  /** Where `docker://` images and the build image are read from: their registries, or a driver's store. */
  readonly images: ImageReader;
  readonly cache: LayerCache;
  readonly scratch: Scratch;
  /** The platform read from image indexes (build image, buildpackages, lifecycle image). */
  readonly platform: TargetPlatform;
}

/** A source that cannot be used; the caller says which field named it. */
export class SourceError extends Error {}
