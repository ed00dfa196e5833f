/**
 * What the layer writer, reader and extractor share: the CNB tar epoch, container path rules, name order and
 * the error codes of layer tars.
 */
import { CnbpError } from "../../errors.js";

/** The mtime of every entry of a normalised layer tar (platform.md 4.6): 1980-01-01T00:00:01Z. */
export const CNB_EPOCH: Date = new Date("1980-01-01T00:00:01Z");

/** Numeric owner of tar entries (names are never written). */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** Layer arguments that cannot make a tar (a relative container path, a mode out of range, ...). */
export const LAYER_INVALID = "CNBP_LAYER_INVALID";
/** A layer could not be written: a file vanished or changed while it was read, the destination failed. */
export const LAYER_WRITE = "CNBP_LAYER_WRITE";
/** A tar could not be read: not a tar, truncated, corrupt gzip. */
export const LAYER_READ = "CNBP_LAYER_READ";
/** An entry that extraction refuses: `..`, absolute, a link leaving the root, a device, through a symlink. */
export const LAYER_UNSAFE = "CNBP_LAYER_UNSAFE";
/** Extraction failed on the file system (a directory where a file goes, permissions, ...). */
export const LAYER_EXTRACT = "CNBP_LAYER_EXTRACT";

/** Largest mtime a ustar header written by tar-stream holds correctly (it truncates seconds to int32). */
const MAX_MTIME_SECONDS = 2 ** 31 - 1;

/**
 * The mtime for layer entries: `SOURCE_DATE_EPOCH` (whole seconds since the Unix epoch) when set and not empty,
 * else the CNB epoch. Throws a CnbpError for anything that is not such a number.
 */
export function layerMtime(sourceDateEpoch?: string): Date {
  if (sourceDateEpoch === undefined || sourceDateEpoch === "") return CNB_EPOCH;
  if (!/^\d+$/.test(sourceDateEpoch) || Number(sourceDateEpoch) > MAX_MTIME_SECONDS) {
    throw new CnbpError(
      LAYER_INVALID,
      `SOURCE_DATE_EPOCH: ${JSON.stringify(sourceDateEpoch)} is not a number of seconds between 0 and ${MAX_MTIME_SECONDS}`,
    );
  }
  return new Date(Number(sourceDateEpoch) * 1000);
}

/** Whole seconds of an mtime, checked to fit the tar header. */
export function mtimeSeconds(mtime: Date, label: string): number {
  const seconds = Math.floor(mtime.getTime() / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_MTIME_SECONDS) {
    throw new CnbpError(
      LAYER_INVALID,
      `layer ${label}: mtime ${String(mtime)} is outside 1970-01-01..2038-01-19 (tar headers hold 31 bits)`,
    );
  }
  return seconds;
}

/**
 * Checks a container path as the writer takes it: absolute, POSIX, normalised (no empty, `.` or `..` parts,
 * no trailing `/`). `/` itself is allowed.
 */
export function checkContainerPath(p: string, what: string, label: string): string {
  const ok =
    p === "/" ||
    (p.startsWith("/") &&
      p
        .slice(1)
        .split("/")
        .every((part) => part !== "" && part !== "." && part !== ".."));
  if (!ok || p.includes("\0")) {
    throw new CnbpError(
      LAYER_INVALID,
      `layer ${label}: ${what} ${JSON.stringify(p)} is not a normalised absolute container path`,
    );
  }
  return p;
}

/** `/a/b` + `c` -> `/a/b/c`; `/` + `c` -> `/c`. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** Ancestors of a container path, outermost first, without `/`: `/a/b/c` -> [`/a`, `/a/b`]. */
export function ancestors(p: string): string[] {
  const parts = p.split("/").filter(Boolean);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join("/")}`);
  return out;
}

/** Byte order of the UTF-8 names, as Go's sort.Strings and filepath.Walk order them. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
