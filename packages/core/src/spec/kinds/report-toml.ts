/** report.toml: what the exporter (or rebaser) wrote, for the platform (files.md 1.9). */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind } from "../file-kind.js";
import { digest, show } from "../schema.js";

const sizeError = (iss: { input?: unknown }) =>
  `must be a size in bytes (an integer), found ${show(iss.input)}`;

const schema = z.looseObject({
  image: z.looseObject({
    tags: z.array(z.string()).optional(),
    digest: digest.optional(),
    "image-id": z.string().optional(),
    // Go writes an integer; the spec's example shows a string, so digits in a string are read too
    "manifest-size": z
      .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, { error: sizeError })], {
        error: sizeError,
      })
      .optional(),
  }),
  build: z.looseObject({ bom: z.array(z.unknown()).optional() }).optional(),
});

export type ReportFile = z.infer<typeof schema>;

/** The manifest size as a number, whichever form the file has. */
export function reportManifestSize(report: ReportFile): number | undefined {
  const size = report.image["manifest-size"];
  return size === undefined ? undefined : Number(size);
}

export const reportToml: FileKind<ReportFile> = {
  name: "report.toml",
  fileNames: ["report.toml"],
  format: "toml",
  summary: "exporter and rebaser output: tags written, image digest or ID, manifest size",
  schema,
  check(report, ctx) {
    if (!report.build?.bom?.length || !apiAtLeast(ctx.platformApi ?? "0.15", "0.9")) return [];
    return [
      {
        path: ["build", "bom"],
        message: "is only written before Platform API 0.9 (SBOM files replace it)",
        severity: "warning",
      },
    ];
  },
};
