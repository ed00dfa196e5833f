/**
 * The app as it goes into the build's app volume: a tar of the source directory, owned by the build user,
 * filtered by project.toml's `include` / `exclude` (gitignore rules, distribution.md 7: only one of them may
 * be given). Directories on the way to an included file are kept so the file has a place to land.
 */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import ignore from "ignore";
import { pack } from "tar-stream";
import { CnbpError } from "../errors.js";

export interface AppFilter {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

/** Relative POSIX paths of the entries of `dir` that the filter keeps, parents before children. */
export async function appFiles(dir: string, filter: AppFilter = {}): Promise<string[]> {
  const root = await lstat(dir).catch(() => undefined);
  if (!root?.isDirectory())
    throw new CnbpError("CNBP_APP_NOT_FOUND", `app directory ${dir} does not exist or is not a directory`, {
      hints: ["give the app's source directory with --path (default: the current directory)"],
    });
  const exclude = filter.exclude?.length ? ignore().add([...filter.exclude]) : undefined;
  const include = filter.include?.length ? ignore().add([...filter.include]) : undefined;
  const kept: string[] = [];
  const walk = async (rel: string): Promise<boolean> => {
    const names = (await readdir(join(dir, rel))).sort();
    let any = false;
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const isDir = (await lstat(join(dir, path))).isDirectory();
      const probe = isDir ? `${path}/` : path;
      if (exclude?.ignores(probe)) continue;
      if (isDir) {
        const at = kept.length;
        kept.push(path);
        // an included directory is kept even when empty; otherwise it stays only for what it holds
        // (ignore() matches a file under a matching directory, so an included directory's files are kept)
        const wholeDir = include?.ignores(probe) ?? true;
        const holds = await walk(path);
        if (!wholeDir && !holds) kept.splice(at);
        else any = true;
      } else if (!include || include.ignores(path)) {
        kept.push(path);
        any = true;
      }
    }
    return any;
  };
  await walk("");
  return kept;
}

/**
 * A tar stream of the app root and the kept entries, named relative to it (as `put` takes them), owned by
 * `uid:gid`, with the host's permission bits and times. Symlinks stay symlinks; sockets and FIFOs are skipped.
 */
export function appTar(dir: string, files: readonly string[], owner: { uid: number; gid: number }): Readable {
  const tar = pack();
  const write = async () => {
    // `./` first: the volume's root becomes the build user's, as the buildpacks write into it
    tar.entry({ name: "./", type: "directory", uid: owner.uid, gid: owner.gid, mode: 0o755 });
    for (const name of files) {
      const path = join(dir, name);
      const st = await lstat(path);
      const header = { name, uid: owner.uid, gid: owner.gid, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isDirectory()) tar.entry({ ...header, type: "directory" });
      else if (st.isSymbolicLink()) tar.entry({ ...header, type: "symlink", linkname: await readlink(path) });
      else if (st.isFile()) {
        const entry = tar.entry({ ...header, type: "file", size: st.size });
        await pipeline(createReadStream(path), entry);
      }
    }
    tar.finalize();
  };
  write().catch((err: unknown) => tar.destroy(err as Error));
  return tar as unknown as Readable;
}
