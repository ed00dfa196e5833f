/**
 * OCI image and Docker v2 schema 2 formats: media types, descriptors, manifests, indexes and image configs,
 * as zod schemas (what comes from a registry, a layout or a daemon is checked before it is used).
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";

/** A layer's media type as an OCI manifest names it: Docker's layer types are the same bytes under OCI names. */
export function ociLayerType(mediaType: string): string {
  if (mediaType === MediaType.dockerLayerGzip) return MediaType.ociLayerGzip;
  if (mediaType === DOCKER_LAYER) return MediaType.ociLayer;
  return mediaType;
}

export const MANIFEST_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];

/** A content digest, `sha256:<64 hex>` (the only algorithm cnbp writes; others are refused on read). */
export const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, { error: "is not a sha256 digest" });
export type Digest = z.infer<typeof Digest>;

export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export const Platform = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  "os.version": z.string().optional(),
  "os.features": z.array(z.string()).optional(),
  variant: z.string().optional(),
});
export type Platform = z.infer<typeof Platform>;

export const Descriptor = z.looseObject({
  mediaType: z.string(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: Platform.optional(),
  artifactType: z.string().optional(),
});
export type Descriptor = z.infer<typeof Descriptor>;

export const Manifest = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  annotations: z.record(z.string(), z.string()).optional(),
  subject: Descriptor.optional(),
});
export type Manifest = z.infer<typeof Manifest>;

export const Index = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Index = z.infer<typeof Index>;

const HistoryEntry = z.looseObject({
  created: z.string().optional(),
  created_by: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
});

/** The runtime config of an image (OCI `config` / Docker `config`): what a container starts with. */
export const ContainerConfig = z.looseObject({
  User: z.string().optional(),
  ExposedPorts: z.record(z.string(), z.object({})).nullish(),
  Env: z.array(z.string()).nullish(),
  Entrypoint: z.array(z.string()).nullish(),
  Cmd: z.array(z.string()).nullish(),
  Volumes: z.record(z.string(), z.object({})).nullish(),
  WorkingDir: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
  StopSignal: z.string().optional(),
});
export type ContainerConfig = z.infer<typeof ContainerConfig>;

export const ImageConfig = z.looseObject({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string(),
  os: z.string(),
  "os.version": z.string().optional(),
  variant: z.string().optional(),
  config: ContainerConfig.optional(),
  rootfs: z.looseObject({ type: z.literal("layers"), diff_ids: z.array(Digest) }),
  history: z.array(HistoryEntry).optional(),
});
export type ImageConfig = z.infer<typeof ImageConfig>;

/** Canonical JSON bytes of a manifest, index or config, as cnbp writes and digests them. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Picks the manifest for a platform from an index (os and architecture must match, variant when given). */
export function selectPlatform(index: Index, want: { os: string; architecture: string; variant?: string }) {
  return index.manifests.find(
    (m) =>
      MANIFEST_TYPES.includes(m.mediaType) &&
      m.platform?.os === want.os &&
      m.platform.architecture === want.architecture &&
      (!want.variant || m.platform.variant === want.variant),
  );
}
