/**
 * The suites' own tiny image, written in JS as an OCI layout: one layer holding one file, and a config with
 * labels, env and a user. Its config is fixed by the suite run and variant, so its id (the config's digest)
 * is known before any engine sees it.
 */
import { type Digest, type ImageConfig, jsonBytes, OciLayout, sha256Digest } from "@cnbp/core";
import { CONTRACT_LABEL } from "./support.js";
import { oneFileTar } from "./tar.js";

/** The one file of the test image's layer. */
export const TEST_IMAGE_FILE = "cnbp-contract.txt";

export interface TestImage {
  /** `sha256:` of the config: the id every store must give it. */
  readonly id: Digest;
  readonly config: ImageConfig;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: readonly string[];
  readonly user: string;
  readonly diffId: Digest;
  /** The layer's one file's content. */
  readonly content: string;
}

/** The config and layer of variant `variant` of the run `run`'s test image (different variants, different ids). */
export function testImage(run: string, variant: string, arch: string): TestImage & { readonly tar: Buffer } {
  const content = `driver-testkit ${run} ${variant}\n`;
  const tar = oneFileTar(TEST_IMAGE_FILE, content, { mode: 0o644 });
  const diffId = sha256Digest(tar);
  const labels = { [CONTRACT_LABEL]: run, "io.cnbp.driver-testkit.variant": variant };
  const env = ["PATH=/usr/local/bin:/usr/bin:/bin", `CNBP_CONTRACT=${variant}`];
  const user = "1234:5678";
  const config: ImageConfig = {
    created: "2001-09-09T01:46:40Z",
    architecture: arch,
    os: "linux",
    config: { Env: env, User: user, Labels: labels, Cmd: [`/${TEST_IMAGE_FILE}`] },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "2001-09-09T01:46:40Z", created_by: "driver-testkit" }],
  };
  return { id: sha256Digest(jsonBytes(config)), config, labels, env, user, diffId, content, tar };
}

/**
 * Writes `image` into the OCI layout `dir` (created when missing) named `ref`, and returns the manifest's
 * digest; other images in the layout are kept.
 */
export async function writeTestImage(
  dir: string,
  image: ReturnType<typeof testImage>,
  ref?: string,
): Promise<{ manifestDigest: Digest; configDigest: Digest }> {
  const layout = await OciLayout.create(dir);
  const { descriptor, diffId } = await layout.writeLayer(image.tar);
  if (diffId !== image.diffId) throw new Error(`driver-testkit: layer diff id ${diffId} != ${image.diffId}`);
  const written = await layout.writeImage({
    config: image.config,
    layers: [descriptor],
    ...(ref !== undefined ? { ref } : {}),
  });
  return { manifestDigest: written.descriptor.digest, configDigest: written.manifest.config.digest };
}
