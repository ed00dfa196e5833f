/** How much disk a directory tree takes. */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Bytes allocated to `dir` and everything under it, as `du` counts them; undefined when `dir` is absent. */
export async function diskUsage(dir: string): Promise<number | undefined> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let total = stats.blocks * 512;
  if (!stats.isDirectory()) return total;
  for (const entry of await readdir(dir)) total += (await diskUsage(join(dir, entry))) ?? 0;
  return total;
}
