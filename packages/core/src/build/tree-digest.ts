/** A digest of a directory's content (names, types, modes, file bytes, link targets), for cache keys. */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

/** `sha256:<hex>` over every entry below `dir` in name order; owners and times are left out on purpose. */
export async function treeDigest(dir: string): Promise<string> {
  const hash = createHash("sha256");
  await walk(dir, "", hash);
  return `sha256:${hash.digest("hex")}`;
}

const SMALL = 1 << 20;

async function walk(root: string, rel: string, hash: Hash): Promise<void> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const full = join(root, path);
    const st = await lstat(full);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      hash.update(`d ${mode} ${path}\0`);
      await walk(root, path, hash);
    } else if (st.isSymbolicLink()) hash.update(`l ${path} ${await readlink(full)}\0`);
    else if (st.isFile()) {
      hash.update(`f ${mode} ${st.size} ${path}\0`);
      // most context files are small: one read costs less than a stream
      if (st.size <= SMALL) hash.update(await readFile(full));
      else
        await pipeline(createReadStream(full), async (source: AsyncIterable<Buffer>) => {
          for await (const chunk of source) hash.update(chunk);
        });
    }
  }
}
