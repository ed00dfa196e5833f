/**
 * The rebased image, computed from manifests and configs only (shared/spec/platform.md section 9): the app's
 * layers above its run image's top layer are put on the new run image's layers; the lifecycle label gets the
 * new top layer and reference (and, when -force let an unlisted run image in, its name); every
 * `io.buildpacks.stack.*` and `io.buildpacks.base.*` label is re-copied from the new base; os/architecture
 * come from the new base (they are equal unless forced), the variant too when forced; `created` is the
 * constant. Layer blobs are never read: the result names the same blobs by digest.
 */
import {
  type Descriptor,
  type Digest,
  type ImageConfig,
  jsonBytes,
  type Manifest,
  MediaType,
  ociLayerType,
  sha256Digest,
} from "../image/oci.js";
import { RebaseRefused } from "./rules.js";

/** What the Go lifecycle writes for `created` on rebase (imgutil's normalised time). */
export const REBASE_CREATED = "1980-01-01T00:00:01Z";

const SYNCED_LABEL_PREFIXES = ["io.buildpacks.stack.", "io.buildpacks.base."];
const BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name";
const BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest";

export interface ImageParts {
  readonly manifest: Manifest;
  readonly config: ImageConfig;
}

export interface RebaseImageInput {
  readonly app: ImageParts;
  readonly newBase: ImageParts & {
    /** The new base's manifest digest. */
    readonly digest: Digest;
    /** What the label records as `runImage.reference`: a digest reference, or `<layout path>@<digest>`. */
    readonly reference: string;
    /** Its name as the platform gave it (or as chosen from the label's mirrors). */
    readonly name: string;
  };
  /** The app's io.buildpacks.lifecycle.metadata label, parsed, with any keys this lifecycle does not know. */
  readonly label: Record<string, unknown>;
  /** -force was given: the variant comes from the new base. */
  readonly force: boolean;
  /** The new run image is not in the label (allowed by -force): record it as the label's run image. */
  readonly renameRunImage: boolean;
}

export interface RebasedImage {
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  readonly manifest: Manifest;
  readonly manifestBytes: Buffer;
  readonly digest: Digest;
  /** The number of layers, at the bottom of the manifest, that are the new base's. */
  readonly baseLayerCount: number;
  /** The lifecycle label written. */
  readonly label: Record<string, unknown>;
}

type History = NonNullable<ImageConfig["history"]>;

/** The index of the app's run image top layer among its layers. */
export function topLayerIndex(app: ImageParts, topLayer: unknown): number {
  if (typeof topLayer !== "string" || topLayer === "") {
    throw new RebaseRefused(
      "the app image's io.buildpacks.lifecycle.metadata label has no runImage.topLayer: its run image layers cannot be told from its own",
    );
  }
  const diffIds = app.config.rootfs.diff_ids;
  if (diffIds.length !== app.manifest.layers.length) {
    throw new RebaseRefused(
      `the app image has ${app.manifest.layers.length} layers but its config lists ${diffIds.length} diff IDs`,
    );
  }
  const index = diffIds.indexOf(topLayer);
  if (index < 0) {
    throw new RebaseRefused(
      `the app image's run image top layer ${topLayer} (runImage.topLayer in its io.buildpacks.lifecycle.metadata label) is not one of its layers`,
    );
  }
  return index;
}

/** The lifecycle label after the rebase (keys in their original order, unknown keys kept). */
export function rebasedLabel(
  label: Record<string, unknown>,
  update: { topLayer: string; reference: string; renameTo?: string },
): Record<string, unknown> {
  const old = label.runImage;
  const runImage: Record<string, unknown> = {
    ...(old && typeof old === "object" ? (old as Record<string, unknown>) : {}),
    topLayer: update.topLayer,
    reference: update.reference,
  };
  const out: Record<string, unknown> = { ...label, runImage };
  if (update.renameTo !== undefined) {
    runImage.image = update.renameTo;
    delete runImage.mirrors;
    out.stack = { runImage: { image: update.renameTo } };
  }
  return out;
}

function syncedLabel(key: string): boolean {
  return SYNCED_LABEL_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** The app's labels with the new lifecycle label and the base labels of the new base, sorted as Go writes them. */
function rebasedLabels(
  app: ImageConfig,
  newBase: ImageConfig,
  label: Record<string, unknown>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(app.config?.Labels ?? {}))
    if (!syncedLabel(key)) labels[key] = value;
  for (const [key, value] of Object.entries(newBase.config?.Labels ?? {}))
    if (syncedLabel(key)) labels[key] = value;
  labels["io.buildpacks.lifecycle.metadata"] = JSON.stringify(label);
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Index of the app's first history entry: the first after the one that made layer `layer` (0-based) and the
 * empty-layer entries that follow it, which are the old base's (its closing `USER`, `ENV`...: the new base
 * brings its own); undefined if history and layers disagree.
 */
function historyAfterLayer(history: History, layers: number, layer: number): number | undefined {
  const made = history.filter((h) => !h.empty_layer).length;
  if (made !== layers) return undefined;
  let seen = -1;
  for (let i = 0; i < history.length; i++) {
    if (!history[i]?.empty_layer) seen++;
    if (seen === layer) {
      let next = i + 1;
      while (history[next]?.empty_layer) next++;
      return next;
    }
  }
  return undefined;
}

/**
 * The new base's history, then the app's entries above its old top layer; none when either image has no
 * history or one that does not match its layers (history is informational: nothing reads it back).
 */
function rebasedHistory(app: ImageParts, newBase: ImageParts, top: number): History | undefined {
  const appHistory = app.config.history;
  const baseHistory = newBase.config.history;
  if (!appHistory || !baseHistory) return undefined;
  const after = historyAfterLayer(appHistory, app.manifest.layers.length, top);
  const baseMade = baseHistory.filter((h) => !h.empty_layer).length;
  if (after === undefined || baseMade !== newBase.manifest.layers.length) return undefined;
  return [...baseHistory, ...appHistory.slice(after)];
}

const asOciLayer = (layer: Descriptor): Descriptor => ({
  ...layer,
  mediaType: ociLayerType(layer.mediaType),
});

export function rebaseImage(input: RebaseImageInput): RebasedImage {
  const { app, newBase } = input;
  const runImage = input.label.runImage as { topLayer?: unknown } | undefined;
  const top = topLayerIndex(app, runImage?.topLayer);
  const baseDiffIds = newBase.config.rootfs.diff_ids;
  if (baseDiffIds.length !== newBase.manifest.layers.length || baseDiffIds.length === 0) {
    throw new RebaseRefused(
      `the new run image ${newBase.name} has ${newBase.manifest.layers.length} layers and ${baseDiffIds.length} diff IDs: it cannot be a base`,
    );
  }
  const label = rebasedLabel(input.label, {
    topLayer: baseDiffIds.at(-1) as string,
    reference: newBase.reference,
    ...(input.renameRunImage ? { renameTo: newBase.name } : {}),
  });

  const config: ImageConfig = structuredClone(app.config);
  config.created = REBASE_CREATED;
  config.os = newBase.config.os;
  config.architecture = newBase.config.architecture;
  if (newBase.config["os.version"] !== undefined) config["os.version"] = newBase.config["os.version"];
  else delete config["os.version"];
  if (input.force) {
    if (newBase.config.variant) config.variant = newBase.config.variant;
    else delete config.variant;
  }
  config.config = { ...config.config, Labels: rebasedLabels(app.config, newBase.config, label) };
  config.rootfs = {
    ...config.rootfs,
    diff_ids: [...baseDiffIds, ...app.config.rootfs.diff_ids.slice(top + 1)],
  };
  const history = rebasedHistory(app, newBase, top);
  if (history) config.history = history;
  else delete config.history;

  const configBytes = jsonBytes(config);
  const annotations = { ...app.manifest.annotations };
  if (BASE_NAME_ANNOTATION in annotations || BASE_DIGEST_ANNOTATION in annotations) {
    annotations[BASE_NAME_ANNOTATION] = newBase.name;
    annotations[BASE_DIGEST_ANNOTATION] = newBase.digest;
  }
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: [...newBase.manifest.layers, ...app.manifest.layers.slice(top + 1)].map(asOciLayer),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifestBytes = jsonBytes(manifest);
  return {
    config,
    configBytes,
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    baseLayerCount: newBase.manifest.layers.length,
    label,
  };
}
