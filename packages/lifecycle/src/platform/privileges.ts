/**
 * Phases that start as root (analyzer, restorer, exporter) give the build user the volumes they write, then
 * drop to that user before touching anything else, as the Platform API requires.
 */
import { chown } from "node:fs/promises";

export async function dropPrivileges(ids: { uid?: string; gid?: string }, ownedPaths: readonly string[]) {
  const uid = Number(ids.uid ?? 0);
  const gid = Number(ids.gid ?? 0);
  if (process.getuid?.() !== 0 || (uid === 0 && gid === 0)) return;
  for (const path of ownedPaths) await chown(path, uid, gid).catch(() => undefined);
  process.setgid?.(gid);
  process.setuid?.(uid);
}
