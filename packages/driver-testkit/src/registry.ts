/** Pushes the test image to a registry with @cnbp/core's client, so pulls are tested from a known image. */
import { type Digest, jsonBytes, type Manifest, MediaType, RegistryClient, sha256Digest } from "@cnbp/core";
import type { testImage } from "./test-image.js";

/** Pushes `image` (layer uncompressed) as `ref` anonymously; resolves to the manifest's digest. */
export async function pushTestImage(ref: string, image: ReturnType<typeof testImage>): Promise<Digest> {
  const client = new RegistryClient({ keychain: { resolve: async () => undefined } });
  const config = jsonBytes(image.config);
  const layer = { mediaType: MediaType.ociLayer, digest: image.diffId, size: image.tar.length };
  await client.pushBlob(ref, layer, image.tar);
  const configBlob = { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.length };
  await client.pushBlob(ref, configBlob, config);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configBlob,
    layers: [layer],
  };
  return client.putManifest(ref, jsonBytes(manifest), MediaType.ociManifest);
}
