/**
 * Images in OCI layout directories (Platform API layout mode, shared/spec/platform.md section 11): a tag
 * reference `<registry>/<repo>:<tag>` lives in `<root>/<registry>/<repo>/<tag>`, a digest reference in
 * `<root>/<registry>/<repo>/<alg>/<hex>`; each directory is a layout holding that one image.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CnbpError } from "../../errors.js";
import { OciLayout } from "../layout/index.js";
import { parseReference } from "../reference.js";
import type { ImageBackend, SourceImage } from "./source-image.js";
import { layerForDiffId } from "./source-image.js";

export function layoutPath(root: string, name: string): string {
  const ref = parseReference(name);
  const base = join(root, ref.registry, ...ref.repository.split("/"));
  if (ref.digest) return join(base, ...ref.digest.split(":"));
  return join(base, ref.tag ?? "latest");
}

export class LayoutBackend implements ImageBackend {
  constructor(private readonly root: string) {}

  find(name: string): Promise<SourceImage | undefined> {
    return openLayoutImage(layoutPath(this.root, name), name);
  }

  async canRead(name: string): Promise<boolean> {
    return (await this.find(name)) !== undefined;
  }

  /** Anything under the root can be written: the directory is made when the image is. */
  async canWrite(_name: string): Promise<boolean> {
    await mkdir(this.root, { recursive: true });
    return true;
  }
}

/**
 * The image in a layout directory (by manifest digest or ref name when `selector` is given, else its only
 * image), or undefined when the directory or the image is not there.
 */
export async function openLayoutImage(
  dir: string,
  name: string,
  selector?: string,
): Promise<SourceImage | undefined> {
  let layout: OciLayout;
  let image: Awaited<ReturnType<OciLayout["readImage"]>>;
  try {
    layout = await OciLayout.open(dir);
    image = await layout.readImage(selector);
  } catch (err) {
    if (
      err instanceof CnbpError &&
      (err.code === "CNBP_LAYOUT_NOT_FOUND" || err.code === "CNBP_IMAGE_NOT_FOUND")
    ) {
      return undefined;
    }
    throw err;
  }
  const { manifest, config } = image;
  return {
    name,
    identifier: `${dir}@${image.descriptor.digest}`,
    manifestDigest: image.descriptor.digest,
    manifest,
    config,
    async openLayer(diffId: string) {
      const layer = layerForDiffId(manifest, config, diffId);
      return layer && (await layout.hasBlob(layer.digest)) ? layout.openBlob(layer) : undefined;
    },
  };
}
