/** The build context as the tar stream the engine's build API takes, with an outside Dockerfile added to it. */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Pack, pack } from "tar-stream";

/** Extra file put at the context's root, e.g. a Dockerfile that lives outside the context. */
export interface ExtraFile {
  readonly name: string;
  readonly source: string;
}

/** Streams `dir` (entries relative to it, root-owned as the docker CLI sends them, names in byte order) plus `extra`. */
export function contextTar(dir: string, extra?: ExtraFile): Readable {
  const tar = pack();
  (async () => {
    await addTree(tar, dir, "");
    if (extra) await addFile(tar, extra.source, extra.name);
    tar.finalize();
  })().catch((err: unknown) => tar.destroy(err as Error));
  // tar-stream's streams are streamx streams: they pipe like Node's, but are not typed as them
  return tar as unknown as Readable;
}

async function addTree(tar: Pack, dir: string, prefix: string): Promise<void> {
  const names = (await readdir(dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const path = join(dir, name);
    const entryName = `${prefix}${name}`;
    const st = await lstat(path);
    const header = { name: entryName, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      tar.entry({ ...header, type: "directory" });
      await addTree(tar, path, `${entryName}/`);
    } else if (st.isSymbolicLink()) tar.entry({ ...header, type: "symlink", linkname: await readlink(path) });
    else if (st.isFile()) await addFile(tar, path, entryName);
  }
}

async function addFile(tar: Pack, source: string, name: string): Promise<void> {
  const st = await lstat(source);
  const entry = tar.entry({ name, size: st.size, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 });
  await pipeline(createReadStream(source), entry);
}
