/**
 * The run image and previous image by the identifiers analyzed.toml records: a digest reference in a
 * registry, or `<layout dir>@<manifest digest>` in layout mode (what the analyzer's LayoutBackend writes).
 */

import type { ImageBackend, SourceImage } from "@cnbp/core";
import { openLayoutImage } from "@cnbp/core";

/** A registry image through the backend; a layout image from its directory. Undefined when it is gone. */
export async function openRecorded(
  identifier: string,
  where: { readonly layout: true } | { readonly layout: false; readonly backend: ImageBackend },
): Promise<SourceImage | undefined> {
  if (!where.layout) return where.backend.find(identifier);
  const at = identifier.lastIndexOf("@");
  if (at <= 0) return openLayoutImage(identifier, identifier);
  return openLayoutImage(identifier.slice(0, at), identifier, identifier.slice(at + 1));
}
