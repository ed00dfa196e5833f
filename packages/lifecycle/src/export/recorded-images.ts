/**
 * The run image and previous image by the identifiers analyzed.toml records: a digest reference in a
 * registry, or `<layout dir>@<manifest digest>` in layout mode (what the analyzer's LayoutBackend writes).
 */
import { CnbpError, OciLayout } from "@cnbp/core";
import type { ImageBackend, SourceImage } from "../images/source-image.js";
import { layerForDiffId } from "../images/source-image.js";

/** A registry image through the backend; a layout image from its directory. Undefined when it is gone. */
export async function openRecorded(
  identifier: string,
  where: { readonly layout: true } | { readonly layout: false; readonly backend: ImageBackend },
): Promise<SourceImage | undefined> {
  if (!where.layout) return where.backend.find(identifier);
  const at = identifier.lastIndexOf("@");
  const dir = at > 0 ? identifier.slice(0, at) : identifier;
  const digest = at > 0 ? identifier.slice(at + 1) : undefined;
  let layout: OciLayout;
  try {
    layout = await OciLayout.open(dir);
  } catch (err) {
    if (err instanceof CnbpError && err.code === "CNBP_LAYOUT_NOT_FOUND") return undefined;
    throw err;
  }
  let image: Awaited<ReturnType<OciLayout["readImage"]>>;
  try {
    image = await layout.readImage(digest);
  } catch (err) {
    if (err instanceof CnbpError && err.code === "CNBP_IMAGE_NOT_FOUND") return undefined;
    throw err;
  }
  const { manifest, config } = image;
  return {
    name: identifier,
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
