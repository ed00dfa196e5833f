/**
 * Phases that start as root (analyzer, restorer, exporter) give the build user the volumes they write, then
 * drop to that user before touching anything else, as the Platform API requires.
 */
import { chown, lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Owner } from "@cnbp/core";

export async function dropPrivileges(ids: { uid?: string; gid?: string }, ownedPaths: readonly string[]) {
  const uid = Number(ids.uid ?? 0);
  const gid = Number(ids.gid ?? 0);
  if (process.getuid?.() !== 0 || (uid === 0 && gid === 0)) return;
  for (const path of ownedPaths) await chown(path, uid, gid).catch(() => undefined);
  process.setgid?.(gid);
  process.setuid?.(uid);
}

/**
 * Gives the build user the volumes it writes, the whole tree, when they belong to someone else (a cache
 * volume written by an earlier root run); only when running as root for another user.
 */
export async function ensureOwner(paths: readonly string[], owner: Owner) {
  if (process.getuid?.() !== 0 || (owner.uid === 0 && owner.gid === 0)) return;
  const walk = async (path: string) => {
    const st = await lstat(path);
    if (st.uid !== owner.uid || st.gid !== owner.gid) await lchown(path, owner.uid, owner.gid);
    if (!st.isDirectory()) return;
    for (const name of await readdir(path)) await walk(join(path, name));
  };
  for (const path of paths) {
    const st = await lstat(path).catch(() => undefined);
    if (st && (st.uid !== owner.uid || st.gid !== owner.gid)) await walk(path);
  }
}
