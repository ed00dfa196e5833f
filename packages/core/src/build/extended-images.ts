/**
 * Extended images kept per app image: every build records which extended images (build and run) it used, and
 * removes those the app image's previous build used and this one does not. An extension whose Dockerfile or
 * context keeps changing then leaves one set of extended images in the store, not one per change.
 * The record lives in cnbp's cache directory, one small JSON file per build driver and app image.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageStore } from "../drivers/contract.js";
import { canonical } from "./layout-repo.js";

/** Where extended images are kept, one repository per kind, tagged by the key of what made them. */
export const EXTENDED_REPO = "localhost/cnbp-extended";

export type ExtendedKind = "build" | "run";

type ExtendedRecord = Partial<Record<ExtendedKind, string[]>>;

export interface ExtendedImagesOf {
  /** cnbp's cache directory. */
  readonly cacheRoot: string;
  /** The name of the driver that made the extended images (its record is its own). */
  readonly driver: string;
  /** Their store, as the caller reaches it fastest. */
  readonly images: ImageStore;
  /** The app image being built. */
  readonly image: string;
}

/**
 * Records `used` as the app image's extended images of `kind`; once the record is written, resolves to the
 * removal of the ones recorded before that it no longer uses, under way, for the caller to await when it
 * suits (a build lets it run beside its next phase). It never rejects: a removal that fails (a container of
 * another build uses the image) leaves that image.
 */
export async function keepOnlyUsed(
  of: ExtendedImagesOf,
  kind: ExtendedKind,
  used: readonly string[],
): Promise<{ readonly removing: Promise<void> }> {
  const path = recordPath(of);
  const record = await readRecord(path);
  await mkdir(join(of.cacheRoot, "extended-images"), { recursive: true });
  // written aside and renamed, so that a build stopped half-way leaves the old record whole
  const aside = `${path}.${process.pid}`;
  await writeFile(aside, `${JSON.stringify({ ...record, [kind]: used })}\n`);
  await rename(aside, path);
  const stale = (record[kind] ?? []).filter((tag) => !used.includes(tag));
  const removing = Promise.all(stale.map((tag) => of.images.remove(tag).catch(() => {}))).then(() => {});
  return { removing };
}

/**
 * For `cnbp cache prune`: removes the extended images recorded for `image` by builds whose build driver was one
 * of `drivers` (all sharing `images`' store), and their records; with `dryRun` only says which. Resolves to
 * the images removed (or that would be); one a container uses stays and is not listed.
 */
export async function pruneExtendedImages(
  cacheRoot: string,
  drivers: readonly string[],
  image: string,
  images: ImageStore,
  dryRun: boolean,
): Promise<string[]> {
  const removed: string[] = [];
  for (const name of drivers) {
    const path = recordPath({ cacheRoot, driver: name, image });
    const record = await readRecord(path);
    for (const tag of [...(record.build ?? []), ...(record.run ?? [])]) {
      // only images still there are listed: one the store lost since is not "removed"
      if (!(await images.inspect(tag))) continue;
      const gone =
        dryRun ||
        (await images.remove(tag).then(
          () => true,
          () => false,
        ));
      if (gone) removed.push(tag);
    }
    if (!dryRun) await rm(path, { force: true });
  }
  return removed;
}

function recordPath(of: { cacheRoot: string; driver: string; image: string }): string {
  const key = createHash("sha256")
    .update(`${of.driver}\n${canonical(of.image)}`)
    .digest("hex")
    .slice(0, 16);
  return join(of.cacheRoot, "extended-images", `${key}.json`);
}

/** The record at `path`; none, or one that does not parse, is an empty record (nothing is removed). */
async function readRecord(path: string): Promise<ExtendedRecord> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return {};
    const record: ExtendedRecord = {};
    for (const kind of ["build", "run"] as const) {
      const tags = (parsed as Record<string, unknown>)[kind];
      // only cnbp's own repository: an edited record never removes another image
      if (Array.isArray(tags))
        record[kind] = tags.filter(
          (t): t is string => typeof t === "string" && t.startsWith(`${EXTENDED_REPO}/`),
        );
    }
    return record;
  } catch {
    return {};
  }
}
