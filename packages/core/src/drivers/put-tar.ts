/**
 * What every driver's `Workspace.put` must do before extracting: hold the tar in a file (it is read twice)
 * and refuse, extracting nothing, an entry or hard-link target that escapes the target directory with `..`
 * (DriverError CNBP_UNSAFE_PATH, as contract.ts says). Drivers share it so the rule is the same in all.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { readLayer } from "../image/layer/reader.js";
import { DriverError } from "./errors.js";

/** Spools `tar`, checks its entries, then calls `use` with the file's path; the file is removed afterwards. */
export async function withCheckedPutTar<T>(
  tar: Readable,
  driver: string,
  use: (file: string) => Promise<T>,
): Promise<T> {
  const tmp = await mkdtemp(join(tmpdir(), `cnbp-${driver}-put-`));
  try {
    const file = join(tmp, "in.tar");
    await pipeline(tar, createWriteStream(file));
    const escapes = (p: string) => p.split("/").includes("..");
    for await (const entry of readLayer(file, { label: "the tar to put" })) {
      if (escapes(entry.path) || (entry.type === "link" && entry.linkname && escapes(entry.linkname)))
        throw new DriverError(
          "CNBP_UNSAFE_PATH",
          driver,
          "workspace.put",
          `entry ${JSON.stringify(entry.name)} escapes the target directory`,
        );
    }
    return await use(file);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
