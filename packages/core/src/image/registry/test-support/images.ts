/** Test images made of random bytes, and small helpers the registry tests share. */
import { randomBytes } from "node:crypto";
import { CnbpError } from "../../../errors.js";
import { type Descriptor, jsonBytes, type Manifest, MediaType, sha256Digest } from "../../oci.js";

/** A repository name nobody else uses: `cnbp-test/<random>/<name>`. */
export function randomRepo(name = "app"): string {
  return `cnbp-test/${randomBytes(6).toString("hex")}/${name}`;
}

export interface TestBlob {
  readonly bytes: Buffer;
  readonly descriptor: Descriptor;
}

export function blob(bytes: Buffer, mediaType: string = MediaType.ociLayerGzip): TestBlob {
  return { bytes, descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length } };
}

export function randomBlob(size: number): TestBlob {
  return blob(randomBytes(size));
}

export interface TestImage {
  readonly config: TestBlob;
  readonly layers: readonly TestBlob[];
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

/** An OCI image whose layers are random bytes of the given sizes. */
export function randomImage(layerSizes: readonly number[] = [200_000, 3_000]): TestImage {
  const layers = layerSizes.map((size) => randomBlob(size));
  const config = blob(
    jsonBytes({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.descriptor.digest) },
      config: { Labels: { "io.cnbp.test": randomBytes(4).toString("hex") } },
    }),
    MediaType.ociConfig,
  );
  const manifestValue: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: config.descriptor,
    layers: layers.map((l) => l.descriptor),
  };
  const manifest = jsonBytes(manifestValue);
  return { config, layers, manifest, manifestDigest: sha256Digest(manifest) };
}

/** The CnbpError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function errorOf(p: Promise<unknown>): Promise<CnbpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CnbpError) return err;
    throw err;
  }
  throw new Error("expected a CnbpError");
}
