/**
 * Choosing a run image from run.toml's `image` and `mirrors` (shared/spec/platform.md section 6): the first,
 * in order, that is on the output image's registry and readable; else the first readable one.
 */
import { parseReference, referenceName } from "./reference.js";

export interface RunImageMirrors {
  readonly image?: string;
  readonly mirrors?: readonly string[];
}

/** Candidates in order: the image, then its mirrors. */
export function runImageCandidates(entry: RunImageMirrors): string[] {
  return [...(entry.image ? [entry.image] : []), ...(entry.mirrors ?? [])];
}

export async function selectRunImage(
  entry: RunImageMirrors,
  outputImage: string,
  readable: (ref: string) => Promise<boolean>,
): Promise<string | undefined> {
  const candidates = runImageCandidates(entry);
  const registry = parseReference(outputImage).registry;
  const known = new Map<string, boolean>();
  const canRead = async (ref: string) => {
    if (!known.has(ref)) known.set(ref, await readable(ref));
    return known.get(ref) as boolean;
  };
  for (const ref of candidates) {
    if (parseReference(ref).registry === registry && (await canRead(ref))) return ref;
  }
  for (const ref of candidates) if (await canRead(ref)) return ref;
  return undefined;
}

/**
 * Whether `ref` names one of the entry's images, compared as the spec says: normalised, digest stripped,
 * `:latest` added when no tag.
 */
export function runImageListed(entry: RunImageMirrors, ref: string): boolean {
  const key = (r: string) => {
    const parsed = parseReference(r);
    return `${referenceName(parsed)}:${parsed.tag ?? "latest"}`;
  };
  const wanted = key(ref);
  return runImageCandidates(entry).some((candidate) => key(candidate) === wanted);
}
