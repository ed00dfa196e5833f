/**
 * The extended run image as the exporter takes it (shared/spec/extensions.md 6 "Finally"):
 * `<extended>/run/<manifest digest>/`, an OCI layout with one manifest, its config, and only the blobs of
 * the layers the extensions added, gzip-compressed. The exporter tells extension layers from the run image's
 * own by which blobs are there, so the run image's blobs must stay out.
 */
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { CnbpError } from "../errors.js";
import { CNB_EPOCH } from "../image/layer/common.js";
import { OciLayout } from "../image/layout/layout.js";
import { blobPath } from "../image/layout/reader.js";
import { type Descriptor, type Digest, type ImageConfig, MediaType, ociLayerType } from "../image/oci.js";
import { isRootUser, RESET_USER_HINT } from "./rules.js";

export const REBASABLE_LABEL = "io.buildpacks.rebasable";

/** The config's `created`: the CNB epoch, as the exporter writes it (whole seconds, as Go does). */
const CREATED = CNB_EPOCH.toISOString().replace(/\.\d{3}Z$/, "Z");

const UNCOMPRESSED: readonly string[] = [MediaType.ociLayer, "application/vnd.docker.image.rootfs.diff.tar"];
const GZIPPED: readonly string[] = [MediaType.ociLayerGzip, MediaType.dockerLayerGzip];

export interface SparseRunImageInput {
  /**
   * An OCI layout holding the whole extended image (it may hold other images too), just exported and not
   * changed afterwards: its gzip blobs are hard-linked into the sparse layout where the filesystem allows.
   */
  readonly extendedLayout: string;
  /** The extended image's `org.opencontainers.image.ref.name` in that layout; default its only image. */
  readonly image?: string;
  /** How many layers the original run image has: the ones above are the extensions'. */
  readonly baseLayerCount: number;
  /** The id of the extension that added each layer above the run image's, bottom first. */
  readonly addedBy: readonly string[];
  /** See chainRebasable. */
  readonly rebasable: boolean;
  /** `<extended>/run`: the image goes into `<outDir>/<manifest digest>/`. */
  readonly outDir: string;
}

export async function writeSparseRunImage(
  opts: SparseRunImageInput,
): Promise<{ digest: string; dir: string }> {
  const source = await OciLayout.open(opts.extendedLayout);
  const image = await source.readImage(opts.image);
  const { layers } = image.manifest;
  const added = layers.length - opts.baseLayerCount;
  if (added < 0 || added !== opts.addedBy.length) {
    throw new CnbpError(
      "CNBP_INVALID_IMAGE",
      `${opts.extendedLayout}: the extended run image has ${layers.length} layers, not the run image's ${opts.baseLayerCount} and ${opts.addedBy.length} added by extensions`,
    );
  }
  const user = image.config.config?.User ?? "";
  if (isRootUser(user)) {
    throw new CnbpError(
      "CNBP_EXTENSION_INVALID",
      `extended run image: the final user is root (User "${user}"), and the app must not run as root: add another extension that resets the user`,
      { hints: [RESET_USER_HINT] },
    );
  }

  await mkdir(opts.outDir, { recursive: true });
  const staging = await mkdtemp(join(opts.outDir, ".tmp-"));
  try {
    const out = await OciLayout.create(staging);
    // compressed side by side (zlib works on the thread pool), all settled before a failure cleans up
    const settled = await Promise.allSettled(
      layers
        .slice(opts.baseLayerCount)
        .map((layer, i) =>
          gzipped(source, out, layer, image.config.rootfs.diff_ids[opts.baseLayerCount + i]),
        ),
    );
    const addedLayers = settled.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    });
    const baseLayers = layers.slice(0, opts.baseLayerCount).map(ociNamed);
    const written = await out.writeImage({
      config: sparseConfig(image.config, opts),
      layers: [...baseLayers, ...addedLayers],
      sparse: true,
    });
    const dir = join(opts.outDir, written.descriptor.digest);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return { digest: written.descriptor.digest, dir };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Whether the extended run image may be rebased (spec 6): every run Dockerfile's result says
 * `io.buildpacks.rebasable` is true (as Go's strconv.ParseBool reads it); unset or unreadable is false.
 */
export function chainRebasable(
  labelsPerStep: readonly (Readonly<Record<string, string>> | undefined)[],
): boolean {
  return labelsPerStep.every((labels) =>
    ["1", "t", "T", "true", "TRUE", "True"].includes(labels?.[REBASABLE_LABEL] ?? ""),
  );
}

/**
 * Takes a gzip layer as it is (hard-linked from the export just made, where the filesystem allows);
 * compresses an uncompressed one (its diff ID stays, its digest changes).
 */
async function gzipped(
  from: OciLayout,
  to: OciLayout,
  layer: Descriptor,
  diffId: Digest | undefined,
): Promise<Descriptor> {
  if (GZIPPED.includes(layer.mediaType))
    return ociNamed(await to.linkBlob(join(from.dir, blobPath(layer.digest)), layer));
  if (!UNCOMPRESSED.includes(layer.mediaType)) {
    throw new CnbpError(
      "CNBP_UNSUPPORTED",
      `${from.location}: layer ${layer.digest} of the extended run image is ${layer.mediaType}: cnbp takes gzip or uncompressed layers`,
      { hints: ["export the extended image without zstd compression"] },
    );
  }
  const written = await to.writeLayer(await from.openBlob(layer));
  if (written.diffId !== diffId) {
    throw new CnbpError(
      "CNBP_BLOB_CORRUPT",
      `${from.location}: layer ${layer.digest} hashes to ${written.diffId}, but the image config lists ${diffId}`,
    );
  }
  return written.descriptor;
}

function ociNamed(layer: Descriptor): Descriptor {
  return { ...layer, mediaType: ociLayerType(layer.mediaType) };
}

/**
 * The extended image's config with the rebasable label, the history of the added layers naming their
 * extension (as the Go extender writes it), and `created` set to the epoch.
 */
function sparseConfig(config: ImageConfig, opts: SparseRunImageInput): ImageConfig {
  const history = layerHistory(config);
  const added = history.slice(opts.baseLayerCount).map((entry, i) => ({
    created: CREATED,
    created_by: `Layer: '${entry.created_by ?? ""}', Created by extension: ${opts.addedBy[i]}`,
  }));
  return {
    ...config,
    created: CREATED,
    config: {
      ...config.config,
      Labels: { ...config.config?.Labels, [REBASABLE_LABEL]: String(opts.rebasable) },
    },
    history: [...history.slice(0, opts.baseLayerCount), ...added],
  };
}

/**
 * One history entry per layer: entries of empty layers (ENV, LABEL, USER...) are dropped; when what is left
 * does not match the layers one for one, each layer gets an empty entry (imgutil's NormalizedHistory).
 */
function layerHistory(config: ImageConfig): NonNullable<ImageConfig["history"]> {
  const layers = config.rootfs.diff_ids.length;
  const kept = (config.history ?? []).filter((h) => !h.empty_layer);
  return kept.length === layers ? kept : Array.from({ length: layers }, () => ({}));
}
