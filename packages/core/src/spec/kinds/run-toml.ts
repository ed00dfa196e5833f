/** run.toml: the run images (with mirrors) a build may use, first = default (Platform API >= 0.12; files.md 1.3). */
import { z } from "zod";
import { InvalidReferenceError, parseReference } from "../../image/reference.js";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding } from "../file-kind.js";
import { show } from "../schema.js";

/** An image reference as Docker parses it; the problem says what is wrong with it. */
export const imageReference = z.string().superRefine((text, ctx) => {
  try {
    parseReference(text);
  } catch (err) {
    if (!(err instanceof InvalidReferenceError)) throw err;
    const why = err.message.slice(err.message.indexOf(": ") + 2);
    ctx.addIssue({ code: "custom", message: `${show(text)} is not a valid image reference (${why})` });
  }
});

/** A run image and its mirrors (the same image on other registries), as run.toml and stack.toml give it. */
export const runImageEntry = z.looseObject({
  image: imageReference.optional(),
  mirrors: z.array(imageReference).optional(),
});

export type RunImageEntry = z.infer<typeof runImageEntry>;

/** Mirrors are mirrors of an image: without one they mean nothing. */
export function checkMirrors(entry: RunImageEntry, path: (string | number)[]): Finding[] {
  if (entry.image || !entry.mirrors) return [];
  return [{ path: [...path, "mirrors"], message: "is only allowed when image is set" }];
}

const schema = z.looseObject({ images: z.array(runImageEntry).optional() });

export type RunFile = z.infer<typeof schema>;

export const runToml: FileKind<RunFile> = {
  name: "run.toml",
  fileNames: ["run.toml"],
  format: "toml",
  summary: "the run images a build may use and their mirrors, first = default (Platform API 0.12+)",
  schema,
  check(run, ctx) {
    const findings = (run.images ?? []).flatMap((entry, i) => checkMirrors(entry, ["images", i]));
    if (!run.images?.length) {
      findings.push({
        path: ["images"],
        message: "is empty: the analyzer needs -run-image",
        severity: "warning",
      });
    } else if (!run.images[0]?.image) {
      findings.push({
        path: ["images", 0, "image"],
        message: "is missing: the analyzer takes the first entry's image (or -run-image)",
        severity: "warning",
      });
    }
    if (!apiAtLeast(ctx.platformApi ?? "0.15", "0.12")) {
      findings.push({
        path: [],
        message: "needs Platform API 0.12 or newer (older lifecycles read stack.toml)",
        severity: "warning",
      });
    }
    return findings;
  },
};
