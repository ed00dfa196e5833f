/**
 * Reading what a buildpack wrote. bin/build runs as the build user while the lifecycle may be root, so a file a
 * buildpack hands over is read only when it is a regular file itself: a symlink to /etc/shadow is refused, not
 * followed into the image or an error message.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { type FileKind, parseSpec } from "@cnbp/core";
import type { Log } from "../log.js";
import { type BuildpackRef, buildpackError, problemsText, warningText } from "./errors.js";

/** The file's bytes, or undefined when it does not exist; throws a plain message when it is not a regular file. */
export async function readBuildpackFile(path: string): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new Error(`${path}: must be a regular file, found a symlink`);
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${path}: must be a regular file`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * A buildpack's TOML file validated against its Buildpack API; undefined when it wrote none. An invalid file
 * is a build error naming the buildpack, the file and the rule; warnings are logged.
 */
export async function readBuildpackToml<T>(
  bp: BuildpackRef & { readonly api: string },
  kind: FileKind<T>,
  file: string,
  log: Log,
): Promise<T | undefined> {
  let text: Buffer | undefined;
  try {
    text = await readBuildpackFile(file);
  } catch (err) {
    throw buildpackError(bp, (err as Error).message);
  }
  if (text === undefined) return undefined;
  const parsed = parseSpec(kind, text.toString("utf8"), file, { buildpackApi: bp.api });
  if (!parsed.ok) throw buildpackError(bp, problemsText(parsed.problems));
  for (const p of parsed.problems) log.warn(warningText(bp, p));
  return parsed.value;
}
