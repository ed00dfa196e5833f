/**
 * The launcher layer's record. cnbp's lifecycle tree carries `launcher-layer.json` beside its launcher
 * (scripts/build-tree.mjs writes it): the diffID of the launcher layer and what that layer is made of. The
 * launcher and the Node runtime it runs on are over 100 MB, which an export would otherwise tar and hash every
 * time only to find the layer the previous image already has. A record counts only while the files match it:
 * the launcher by content, the runtime's files by type, mode and size (the runtime is never rebuilt in place;
 * hashing its Node binary would cost what the record saves).
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { type Digest, writeLayer } from "@cnbp/core";
import { launcherParts } from "./lifecycle-layers.js";

export const LAUNCHER_RECORD = "launcher-layer.json";

/** An entry of the launcher layer as the filesystem shows it; `path` is relative to the launcher's dir. */
interface Stamp {
  readonly path: string;
  readonly type: "file" | "directory" | "symlink";
  readonly mode?: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly target?: string;
}

export interface LauncherRecord {
  readonly diffId: Digest;
  readonly files: readonly Stamp[];
}

/** Makes the launcher layer (into nothing) for its diffID, and stamps its files. */
export async function recordLauncherLayer(launcherFile: string): Promise<LauncherRecord> {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const { diffId } = await writeLayer(launcherParts(launcherFile), discard, {
    label: "buildpacksio/lifecycle:launcher",
    gzip: false,
  });
  return { diffId, files: await stamps(launcherFile) };
}

/** The recorded diffID when a record lies beside the launcher and the files are as it says, else undefined. */
export async function recordedLauncherDiffId(launcherFile: string): Promise<Digest | undefined> {
  let record: Partial<LauncherRecord>;
  try {
    record = JSON.parse(await readFile(join(dirname(launcherFile), LAUNCHER_RECORD), "utf8"));
  } catch {
    return undefined;
  }
  if (typeof record.diffId !== "string" || !/^sha256:[0-9a-f]{64}$/.test(record.diffId)) return undefined;
  const now = await stamps(launcherFile).catch(() => undefined);
  return now && JSON.stringify(now) === JSON.stringify(record.files) ? record.diffId : undefined;
}

/** The launcher by content, then the runtime/ dir beside it (if any) walked in name order. */
async function stamps(launcherFile: string): Promise<Stamp[]> {
  const launcher = await readFile(launcherFile);
  const found: Stamp[] = [
    { path: "launcher", type: "file", sha256: createHash("sha256").update(launcher).digest("hex") },
  ];
  const walk = async (relative: string): Promise<void> => {
    const full = join(dirname(launcherFile), relative);
    const info = await lstat(full);
    const mode = info.mode & 0o7777;
    if (info.isSymbolicLink()) {
      found.push({ path: relative, type: "symlink", target: await readlink(full) });
    } else if (info.isDirectory()) {
      found.push({ path: relative, type: "directory", mode });
      const names = (await readdir(full)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const name of names) await walk(`${relative}/${name}`);
    } else if (info.isFile()) {
      found.push({ path: relative, type: "file", mode, size: info.size });
    }
  };
  const runtime = await lstat(join(dirname(launcherFile), "runtime")).catch(() => undefined);
  if (runtime?.isDirectory()) await walk("runtime");
  return found;
}
