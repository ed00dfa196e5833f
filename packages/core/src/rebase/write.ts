/**
 * Writing a rebased image: only its config and manifest are new. In a registry every layer is already in the
 * app's or the new run image's repository, so it is mounted across repositories (or is there already); a
 * layer is streamed from its source only when the registry cannot mount it (another registry, or one that
 * refuses mounts), and that is counted. In layout mode the new base's layer blobs are copied from the run
 * image's layout (the app's are there already when the image is written over itself).
 */
import { OciLayout } from "../image/layout/layout.js";
import { refNameOf } from "../image/layout/reader.js";
import { type Descriptor, MediaType } from "../image/oci.js";
import { parseReference } from "../image/reference.js";
import type { RegistryClient } from "../image/registry/client.js";
import type { RebasedImage } from "./image.js";

/** What happened to the layers of one written image. */
export interface LayerTransfer {
  /** Already in the target repository or layout. */
  existing: number;
  /** Mounted from another repository of the same registry. */
  mounted: number;
  /** Sent (registry) or copied (layout) because there was no other way. */
  copied: number;
  /** Layer bytes sent or copied. */
  bytes: number;
}

export interface WrittenImage {
  readonly name: string;
  readonly digest: string;
  readonly manifestSize: number;
  readonly layers: LayerTransfer;
}

const emptyTransfer = (): LayerTransfer => ({ existing: 0, mounted: 0, copied: 0, bytes: 0 });

/** Where each layer of the rebased image comes from: the new base's repository (bottom) or the app's. */
export interface LayerSources {
  readonly base: string;
  readonly app: string;
}

export async function pushRebased(
  client: RegistryClient,
  name: string,
  image: RebasedImage,
  sources: LayerSources,
  /** Told of each layer that had to be copied (the caller logs it). */
  note: (message: string) => void = () => {},
): Promise<WrittenImage> {
  const ref = parseReference(name);
  const layers = emptyTransfer();
  await Promise.all(
    image.manifest.layers.map(async (layer, i) => {
      const [from, other] =
        i < image.baseLayerCount ? [sources.base, sources.app] : [sources.app, sources.base];
      const pushed = await client.pushBlob(ref, layer, () => client.openBlob(from, layer), {
        mountFrom: [from, other],
      });
      if (pushed.how === "exists") layers.existing++;
      else if (pushed.how === "mounted") layers.mounted++;
      else {
        layers.copied++;
        note(
          `Layer ${layer.digest} (${layer.size} bytes) was copied from ${from}: ${ref.registry} could not mount it`,
        );
      }
      layers.bytes += pushed.uploaded;
    }),
  );
  await client.pushBlob(ref, image.manifest.config, image.configBytes);
  const digest = await client.putManifest(ref, image.manifestBytes, MediaType.ociManifest);
  return { name, digest, manifestSize: image.manifestBytes.length, layers };
}

/** Layout directories of the layers' sources. */
export interface LayoutSources {
  readonly baseDir: string;
  readonly appDir: string;
}

/**
 * Writes the image to the layout in `dir` (made if needed) as its one image, named `refName` in index.json;
 * blobs no longer reachable (the old base's layers, the old config and manifest) are removed.
 */
export async function writeRebasedLayout(
  dir: string,
  refName: string,
  image: RebasedImage,
  sources: LayoutSources,
): Promise<WrittenImage> {
  const target = await OciLayout.create(dir);
  const base = await OciLayout.open(sources.baseDir);
  const app = sources.appDir === dir ? target : await OciLayout.open(sources.appDir);
  const layers = emptyTransfer();
  for (const [i, layer] of image.manifest.layers.entries()) {
    if ((await target.blobSize(layer.digest)) === layer.size) {
      layers.existing++;
      continue;
    }
    const from = i < image.baseLayerCount ? base : app;
    await target.copyBlob(from, layer);
    layers.copied++;
    layers.bytes += layer.size;
  }
  await target.writeBlob(image.configBytes, {
    mediaType: image.manifest.config.mediaType,
    digest: image.manifest.config.digest,
  });
  const written = await target.writeBlob(image.manifestBytes, { mediaType: MediaType.ociManifest });
  const { os, architecture, variant } = image.config;
  const entry: Descriptor = { ...written, platform: { architecture, os, ...(variant ? { variant } : {}) } };
  // the directory holds this one image: every other entry goes
  for (const old of (await target.index()).manifests) await target.removeEntry(refNameOf(old) ?? old.digest);
  await target.addEntry(entry, refName);
  await target.gc();
  return { name: dir, digest: written.digest, manifestSize: image.manifestBytes.length, layers };
}
