/**
 * The write side of images, beside the read side (./source-image.ts): an image (config + layers) saved under
 * one or more names, in a registry or in OCI layout directories (Platform API layout mode). Every blob of
 * every destination is written before any manifest, so a failure never leaves a name pointing at an image
 * with missing blobs. Blobs that a destination has already are not sent again; layers of the base or
 * previous image are mounted from it when it is in the same registry, else streamed from it.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { OciLayout } from "../layout/index.js";
import {
  type Descriptor,
  type Digest,
  type ImageConfig,
  jsonBytes,
  MediaType,
  ociLayerType,
  sha256Digest,
} from "../oci.js";
import { parseReference, referenceName } from "../reference.js";
import type { PushedBlob, RegistryClient } from "../registry/index.js";
import { layoutPath } from "./layout-backend.js";
import type { SourceImage } from "./source-image.js";

/** Where a layer's blob comes from: a file just written, or an existing image that has it. */
export type BlobOrigin =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "image"; readonly image: SourceImage };

export interface LayerToWrite {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  readonly origin: BlobOrigin;
}

export interface ImageToSave {
  readonly config: ImageConfig;
  readonly layers: readonly LayerToWrite[];
  /** The manifest format; a layout always gets an OCI manifest. */
  readonly format: "oci" | "docker";
}

/** How one blob reached the (first) destination. */
export interface BlobTransfer {
  /** `exists`: it was there; `mounted`: mounted from the image it came from; `written`: sent or copied. */
  readonly how: "exists" | "mounted" | "written";
  /** Bytes sent over the network or copied into the layout, over every destination. */
  readonly bytes: number;
}

export interface SavedImage {
  /** The manifest's digest and size. */
  readonly digest: Digest;
  readonly manifestSize: number;
  /** Every name written, in the order given. */
  readonly tags: readonly string[];
  /** One per layer, in order. */
  readonly layers: readonly BlobTransfer[];
  /** Bytes of layers and config sent or copied, over every destination. */
  readonly bytesWritten: number;
}

export interface ImageWriter {
  save(image: ImageToSave, names: readonly string[]): Promise<SavedImage>;
}

/** Opens a layer's blob (gzipped as described) from where it comes from: its file or its image. */
export async function openLayerBlob(layer: LayerToWrite): Promise<Readable> {
  const { origin } = layer;
  if (origin.kind === "file") return createReadStream(origin.path);
  const stream = await origin.image.openLayer(layer.diffId);
  if (!stream) throw new Error(`${origin.image.name} has no blob for layer ${layer.diffId}`);
  return stream;
}

const MANIFEST_TYPE = { oci: MediaType.ociManifest, docker: MediaType.dockerManifest } as const;
const CONFIG_TYPE = { oci: MediaType.ociConfig, docker: MediaType.dockerConfig } as const;

/** The manifest bytes of an image, as this writer puts them. */
export function manifestOf(image: ImageToSave): {
  bytes: Buffer;
  config: Buffer;
  configDescriptor: Descriptor;
} {
  const config = jsonBytes(image.config);
  const configDescriptor: Descriptor = {
    mediaType: CONFIG_TYPE[image.format],
    digest: sha256Digest(config),
    size: config.length,
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE[image.format],
    config: configDescriptor,
    layers: image.layers.map((l) => l.descriptor),
  };
  return { bytes: jsonBytes(manifest), config, configDescriptor };
}

/** Images in one registry (all names must be on it); a repository gets every blob before any tag is put. */
export class RegistryImageWriter implements ImageWriter {
  constructor(
    private readonly client: RegistryClient,
    private readonly concurrency = 3,
  ) {}

  async save(image: ImageToSave, names: readonly string[]): Promise<SavedImage> {
    const { bytes, config, configDescriptor } = manifestOf(image);
    const repositories = [...new Set(names.map((n) => referenceName(parseReference(n))))];
    const transfers: BlobTransfer[] = image.layers.map(() => ({ how: "exists", bytes: 0 }));
    // a blob twice in the image (two empty slices) is pushed once
    const firstOf = new Map<string, number>();
    image.layers.forEach((l, i) => {
      if (!firstOf.has(l.descriptor.digest)) firstOf.set(l.descriptor.digest, i);
    });
    const unique = [...firstOf.values()];
    let bytesWritten = 0;
    for (const [r, repository] of repositories.entries()) {
      // later repositories mount from the first, which has every blob by then
      const also = r > 0 ? [repositories[0] as string] : [];
      const pushed = await mapLimit(unique, this.concurrency, (i) => {
        const layer = image.layers[i] as LayerToWrite;
        return this.client.pushBlob(repository, layer.descriptor, () => openLayerBlob(layer), {
          mountFrom: [...also, ...mountSource(layer.origin)],
        });
      });
      pushed.forEach((p, u) => {
        const i = unique[u] as number;
        bytesWritten += p.uploaded;
        const before = transfers[i] as BlobTransfer;
        transfers[i] = r === 0 ? transferOf(p) : { how: before.how, bytes: before.bytes + p.uploaded };
      });
      const pushedConfig = await this.client.pushBlob(repository, configDescriptor, config, {
        mountFrom: also,
      });
      bytesWritten += pushedConfig.uploaded;
    }
    const mediaType = MANIFEST_TYPE[image.format];
    let digest: Digest | undefined;
    const tags: string[] = [];
    for (const name of names) {
      try {
        digest = await this.client.putManifest(name, bytes, mediaType);
      } catch (err) {
        const written = tags.length > 0 ? ` (already written: ${tags.join(", ")})` : "";
        throw new Error(`writing the manifest of ${name} failed${written}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      tags.push(name);
    }
    return {
      digest: digest ?? sha256Digest(bytes),
      manifestSize: bytes.length,
      tags,
      layers: transfers,
      bytesWritten,
    };
  }
}

/** The image a layer comes from when it is in a registry; a layout's `<dir>@<digest>` has nothing to mount. */
function mountSource(origin: BlobOrigin): string[] {
  if (origin.kind !== "image") return [];
  try {
    parseReference(origin.image.identifier);
    return [origin.image.identifier];
  } catch {
    return [];
  }
}

function transferOf(p: PushedBlob): BlobTransfer {
  return { how: p.how === "uploaded" ? "written" : p.how, bytes: p.uploaded };
}

/**
 * Images in OCI layouts under a root: name `<registry>/<repo>:<tag>` in `<root>/<registry>/<repo>/<tag>`
 * (platform.md 11), named in its index.json by the tag (`org.opencontainers.image.ref.name`), as the Go
 * lifecycle does. A layout's blobs are all written before its index.json entry.
 */
export class LayoutImageWriter implements ImageWriter {
  /** `dirOf` maps a name to its layout directory: by default the platform's layout mode mapping above. */
  constructor(
    private readonly root: string,
    private readonly dirOf: (root: string, name: string) => string = layoutPath,
    /** The ref name a name gets in index.json (undefined: none, as in a buildpackage file); default its tag. */
    private readonly refOf: (name: string) => string | undefined = tagOf,
  ) {}

  async save(image: ImageToSave, names: readonly string[]): Promise<SavedImage> {
    const refs = names.map((n) => this.refOf(n));
    const layouts = await Promise.all(names.map((n) => OciLayout.create(this.dirOf(this.root, n))));
    const transfers: BlobTransfer[] = image.layers.map(() => ({ how: "exists", bytes: 0 }));
    let bytesWritten = 0;
    // a layout gets OCI media types throughout
    const layers = image.layers.map((l) => ({
      ...l,
      descriptor: { ...l.descriptor, mediaType: ociLayerType(l.descriptor.mediaType) },
    }));
    for (const layout of layouts) {
      for (const [i, layer] of layers.entries()) {
        const { digest, size } = layer.descriptor;
        if ((await layout.blobSize(digest)) === size) continue;
        if (layer.origin.kind === "file") {
          // just written and hashed by the exporter: linked in place when the filesystem allows
          await layout.linkBlob(layer.origin.path, layer.descriptor);
        } else {
          await layout.writeBlob(await openLayerBlob(layer), {
            digest,
            size,
            mediaType: layer.descriptor.mediaType,
          });
        }
        bytesWritten += size;
        transfers[i] = { how: "written", bytes: (transfers[i] as BlobTransfer).bytes + size };
      }
    }
    let written: Awaited<ReturnType<OciLayout["writeImage"]>> | undefined;
    for (const [d, layout] of layouts.entries()) {
      const ref = refs[d];
      written = await layout.writeImage({
        config: image.config,
        layers: layers.map((l) => l.descriptor),
        ...(ref !== undefined ? { ref } : {}),
      });
    }
    if (!written) throw new Error("no image name to write");
    return {
      digest: written.descriptor.digest,
      manifestSize: written.descriptor.size,
      tags: [...names],
      layers: transfers,
      bytesWritten,
    };
  }
}

function tagOf(name: string): string {
  const ref = parseReference(name);
  if (ref.digest) throw new Error(`${name}: an image in a layout is written by tag, not by digest`);
  return ref.tag ?? "latest";
}

/** Runs `fn` over `items`, at most `limit` at a time; results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
