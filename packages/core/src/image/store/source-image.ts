/**
 * Images as the lifecycle's phases see them, wherever they live: a registry, or an OCI layout directory
 * (the Platform API's experimental layout mode). Phases only read through this interface.
 */
import type { Readable } from "node:stream";
import type { Descriptor, ImageConfig, Manifest } from "../oci.js";

export interface SourceImage {
  /** The name the platform gave. */
  readonly name: string;
  /** What analyzed.toml records: a digest reference, or `<layout path>@<digest>` in layout mode. */
  readonly identifier: string;
  readonly manifestDigest: string;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  /** A layer's blob (compressed or not, as stored), found by its diffID; undefined when absent. */
  openLayer(diffId: string): Promise<Readable | undefined>;
}

export interface ImageBackend {
  /** The image, or undefined when it does not exist. */
  find(name: string): Promise<SourceImage | undefined>;
  /** The image exists and can be pulled. */
  canRead(name: string): Promise<boolean>;
  canWrite(name: string): Promise<boolean>;
}

export function labelsOf(image: SourceImage): Readonly<Record<string, string>> {
  return image.config.config?.Labels ?? {};
}

/** The layer descriptor for a diffID: layers and diff_ids correspond by position. */
export function layerForDiffId(
  manifest: Manifest,
  config: ImageConfig,
  diffId: string,
): Descriptor | undefined {
  const i = config.rootfs.diff_ids.indexOf(diffId);
  return i >= 0 ? manifest.layers[i] : undefined;
}
