/** What every authoring step shares: where images come from, the layer cache and the run's scratch dir. */
import type { RegistryClient } from "../image/index.js";
import type { LayerCache } from "./layer-cache.js";
import type { Scratch } from "./scratch.js";

export interface TargetPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface AuthoringContext {
  readonly registry: RegistryClient;
  readonly cache: LayerCache;
  readonly scratch: Scratch;
  /** The platform read from image indexes (build image, buildpackages, lifecycle image). */
  readonly platform: TargetPlatform;
}

/** A source that cannot be used; the caller says which field named it. */
export class SourceError extends Error {}
