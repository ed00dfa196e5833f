/**
 * Safe layer extraction into a directory. Every entry name is checked (no `..` parts, nothing absolute once
 * the one leading `/` is taken off); extracted entries are also refused when they are devices, links leaving
 * the extraction root, or would be written through a symlink (one from the tar or one already on disk).
 * A refusal is a CnbpError (CNBP_LAYER_UNSAFE) naming the layer and the entry; entries already written stay.
 *
 * Link targets are judged as container paths: an absolute symlink target must lie under the root (`strip`,
 * or `/`) and is written as it is; a relative one must not climb above the root at any step. Hard links must
 * name an entry under the root.
 */
import { constants } from "node:fs";
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  symlink,
  unlink,
  utimes,
} from "node:fs/promises";
import path from "node:path";
import { CnbpError } from "../../errors.js";
import { checkContainerPath, errorMessage, LAYER_EXTRACT, LAYER_UNSAFE, type Owner } from "./common.js";
import { type Compression, readLayer, type TarEntry } from "./reader.js";

export interface ExtractOptions {
  /** Names the layer in error messages (e.g. the layer digest or `cache example/node:deps`). */
  readonly label: string;
  /**
   * Extract only this container path and what is below it (e.g. `/layers/bp/node`), as the destination dir
   * itself; other entries are skipped. Default `/`: everything.
   */
  readonly strip?: string;
  /**
   * Owners of what is written: `auto` (default) the tar's uid/gid when running as root, else the process's;
   * `tar` the tar's (needs root); `none` the process's; or the one given owner.
   */
  readonly ownership?: "auto" | "tar" | "none" | Owner;
  readonly compression?: Compression;
}

export interface ExtractResult {
  /** Entries written. */
  readonly extracted: number;
  /** Entries outside `strip`, and FIFOs. */
  readonly skipped: number;
}

/** Extracts a tar (file path or byte stream, gzip detected) into `dest` (created if missing). */
export async function extractLayer(
  source: string | AsyncIterable<Uint8Array>,
  dest: string,
  options: ExtractOptions,
): Promise<ExtractResult> {
  const { label } = options;
  const strip = checkContainerPath(options.strip ?? "/", "strip path", label);
  const rootParts = strip.split("/").filter(Boolean);
  const root = path.resolve(dest);
  const ownership = options.ownership ?? "auto";
  const owner = (e: TarEntry): Owner | undefined => {
    if (typeof ownership === "object") return ownership;
    if (ownership === "tar" || (ownership === "auto" && process.getuid?.() === 0)) {
      return { uid: e.uid, gid: e.gid };
    }
    return undefined;
  };
  const io = async <T>(p: Promise<T>, what: string, e: TarEntry): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof CnbpError) throw err;
      throw new CnbpError(
        LAYER_EXTRACT,
        `layer ${label}: entry ${JSON.stringify(e.name)}: ${what}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  };
  const refuse = (e: TarEntry, reason: string) =>
    new CnbpError(LAYER_UNSAFE, `layer ${label}: refused entry ${JSON.stringify(e.name)}: ${reason}`);

  await mkdir(root, { recursive: true });
  /** Directories under the root known to be real directories (relative, `/`-joined). */
  const dirs = new Set<string>([""]);
  /** Directory modes and mtimes, set at the end (children change mtimes; a 0555 dir must stay writable). */
  const dirAttrs = new Map<string, { mode: number; mtime: Date }>();
  let extracted = 0;
  let skipped = 0;

  /** The entry's path parts below the root, or undefined when it is outside `strip`. */
  const relParts = (e: TarEntry, name: string, what: "path" | "link"): string[] | undefined => {
    const noLead = name.startsWith("/") ? name.slice(1) : name;
    const parts = noLead.split("/").filter((p) => p !== "" && p !== ".");
    if (what === "path") {
      if (noLead.startsWith("/")) throw refuse(e, "path is absolute");
      if (parts.includes("..")) throw refuse(e, 'path has a ".." component');
    } else if (noLead.startsWith("/") || parts.includes("..")) {
      return undefined;
    }
    if (!rootParts.every((p, i) => parts[i] === p)) return undefined;
    return parts.slice(rootParts.length);
  };
  const containerName = (rel: string[]) => `/${[...rootParts, ...rel].join("/")}`;

  /** Makes sure every parent of `rel` is a real directory, creating missing ones, refusing symlinks. */
  const parents = async (e: TarEntry, rel: string[], create: boolean) => {
    for (let i = 1; i < rel.length; i++) {
      const key = rel.slice(0, i).join("/");
      if (dirs.has(key)) continue;
      const p = path.join(root, ...rel.slice(0, i));
      const st = await lstat(p).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (st?.isSymbolicLink()) {
        throw refuse(e, `path goes through the symlink ${JSON.stringify(containerName(rel.slice(0, i)))}`);
      }
      if (st && !st.isDirectory()) {
        throw new CnbpError(
          LAYER_EXTRACT,
          `layer ${label}: entry ${JSON.stringify(e.name)}: ${containerName(rel.slice(0, i))} is not a directory`,
        );
      }
      if (!st) {
        if (!create) {
          throw new CnbpError(
            LAYER_EXTRACT,
            `layer ${label}: entry ${JSON.stringify(e.name)}: ${containerName(rel.slice(0, i))} does not exist`,
          );
        }
        await io(mkdir(p, { mode: 0o755 }), "cannot create a parent directory", e);
      }
      dirs.add(key);
    }
  };

  /** Clears the way for a new non-directory at `p` (a file or symlink there is replaced, a directory is not). */
  const clear = async (e: TarEntry, p: string) => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) {
      throw new CnbpError(
        LAYER_EXTRACT,
        `layer ${label}: entry ${JSON.stringify(e.name)}: a directory is in the way of a ${e.type}`,
      );
    }
    await io(unlink(p), "cannot replace the existing file", e);
  };

  const symlinkInside = (rel: string[], target: string): boolean => {
    if (target.startsWith("/")) {
      const stack: string[] = [];
      for (const seg of target.split("/")) {
        if (seg === "" || seg === ".") continue;
        if (seg === "..") stack.pop();
        else stack.push(seg);
      }
      return rootParts.every((p, i) => stack[i] === p);
    }
    const depth = { n: rel.length - 1 };
    for (const seg of target.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        if (depth.n === 0) return false;
        depth.n--;
      } else depth.n++;
    }
    return true;
  };

  for await (const e of readLayer(source, { label, compression: options.compression ?? "auto" })) {
    const rel = relParts(e, e.name, "path");
    if (rel === undefined) {
      skipped++;
      continue;
    }
    if (e.type === "character-device" || e.type === "block-device") {
      throw refuse(e, `${e.type === "block-device" ? "block" : "character"} device files are not extracted`);
    }
    if (e.type === "fifo") {
      skipped++;
      continue;
    }
    if (e.type === "unknown") throw refuse(e, "unsupported entry type");
    const p = rel.length ? path.join(root, ...rel) : root;
    const key = rel.join("/");
    const own = owner(e);

    if (e.type === "directory") {
      await parents(e, rel, true);
      if (!dirs.has(key)) {
        const st = await lstat(p).catch(() => undefined);
        if (st && !st.isDirectory()) await io(unlink(p), "cannot replace the existing file", e);
        if (!st?.isDirectory()) await io(mkdir(p, { mode: 0o755 }), "cannot create the directory", e);
        dirs.add(key);
      }
      if (own) await io(chown(p, own.uid, own.gid), "cannot set the owner", e);
      dirAttrs.set(key, { mode: e.mode, mtime: e.mtime });
      extracted++;
      continue;
    }
    if (rel.length === 0) throw refuse(e, `a ${e.type} cannot replace the extraction root`);
    await parents(e, rel, true);

    if (e.type === "symlink") {
      const target = e.linkname ?? "";
      if (target === "" || !symlinkInside(rel, target)) {
        throw refuse(e, `symlink to ${JSON.stringify(target)} points outside the extraction root`);
      }
      await clear(e, p);
      await io(symlink(target, p), "cannot create the symlink", e);
      if (own) await io(lchown(p, own.uid, own.gid), "cannot set the owner", e);
      await io(lutimes(p, e.mtime, e.mtime), "cannot set the mtime", e);
    } else if (e.type === "link") {
      const target = e.linkname ?? "";
      const targetRel = relParts(e, target, "link");
      if (targetRel === undefined || targetRel.length === 0) {
        throw refuse(e, `hard link to ${JSON.stringify(target)} points outside the extraction root`);
      }
      await parents(e, targetRel, false);
      await clear(e, p);
      await io(link(path.join(root, ...targetRel), p), "cannot create the hard link", e);
    } else {
      await clear(e, p);
      const fh = await io(
        open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600),
        "cannot create the file",
        e,
      );
      try {
        for await (const chunk of e.content) await io(fh.write(chunk), "cannot write the file", e);
        if (own) await io(fh.chown(own.uid, own.gid), "cannot set the owner", e);
        await io(fh.chmod(e.mode), "cannot set the mode", e);
        await io(fh.utimes(e.mtime, e.mtime), "cannot set the mtime", e);
      } finally {
        await fh.close();
      }
    }
    extracted++;
  }

  // innermost first: a read-only parent must not stop its children's attributes from being set
  for (const [key, attrs] of [...dirAttrs].reverse()) {
    const p = key ? path.join(root, ...key.split("/")) : root;
    await chmod(p, attrs.mode);
    await utimes(p, attrs.mtime, attrs.mtime);
  }
  return { extracted, skipped };
}
