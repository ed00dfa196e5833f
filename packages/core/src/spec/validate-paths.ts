/**
 * What `cnbp validate` does: find the CNB files among the paths given (files, or directories searched for
 * files with a known name), and validate each as its kind.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { type Problem, UsageError } from "../errors.js";
import { type AnyFileKind, parseSpec, type SpecContext } from "./file-kind.js";
import { ALL_KINDS, kindByName, kindForFileName } from "./kinds/index.js";

export interface FileReport {
  readonly file: string;
  readonly kind: string;
  readonly valid: boolean;
  readonly problems: readonly Problem[];
}

export interface ValidateOptions {
  /** Validate every file as this kind instead of telling the kind from the file name. */
  readonly kind?: string;
  readonly ctx?: SpecContext;
  /** Stop after the first invalid file (what `cnbp validate` does). */
  readonly stopAtFirstInvalid?: boolean;
}

const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

export async function validatePaths(
  paths: readonly string[],
  opts: ValidateOptions = {},
): Promise<FileReport[]> {
  const forced = opts.kind === undefined ? undefined : requireKind(opts.kind);
  const reports: FileReport[] = [];
  for (const path of paths) {
    for (const { file, kind } of await filesToValidate(path, forced)) {
      const parsed = parseSpec(kind, await readFile(file, "utf8"), file, opts.ctx);
      reports.push({ file, kind: kind.name, valid: parsed.ok, problems: parsed.problems });
      if (!parsed.ok && opts.stopAtFirstInvalid) return reports;
    }
  }
  return reports;
}

function requireKind(name: string): AnyFileKind {
  const kind = kindByName(name);
  if (!kind) {
    throw new UsageError(`--kind "${name}" is not a CNB file kind cnbp knows`, {
      hints: [`use one of: ${ALL_KINDS.map((k) => k.name).join(", ")}`],
    });
  }
  return kind;
}

async function filesToValidate(path: string, forced: AnyFileKind | undefined) {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`${path}: no such file or directory`);
  if (info.isFile()) {
    const kind = forced ?? kindForFileName(basename(path));
    if (!kind) {
      throw new UsageError(`${path}: cannot tell which CNB file this is from its name`, {
        hints: ["pass --kind <kind> (see `cnbp validate --list-kinds`)"],
      });
    }
    return [{ file: path, kind }];
  }
  const found = await findKnownFiles(path, forced);
  if (found.length === 0) {
    throw new UsageError(`${path}: no CNB files found in this directory`, {
      hints: [`file names looked for: ${ALL_KINDS.flatMap((k) => k.fileNames).join(", ")}`],
    });
  }
  return found;
}

async function findKnownFiles(dir: string, forced: AnyFileKind | undefined) {
  const found: { file: string; kind: AnyFileKind }[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name))
      found.push(...(await findKnownFiles(path, forced)));
    else if (entry.isFile()) {
      const kind = kindForFileName(entry.name);
      // with --kind, a directory contributes the files of that kind's names only
      if (kind && (!forced || forced === kind)) found.push({ file: path, kind });
    }
  }
  return found;
}
