/** Files of a workspace volume copied to the host, where the platform reads them (analyzed.toml, generated/). */

import type { Workspace } from "../drivers/contract.js";
import { DriverError } from "../drivers/errors.js";
import { extractLayer } from "../image/layer/extract.js";

/**
 * Extracts `path` of `volume` into `dest` (as `dest/<basename of path>`), refusing entries that escape it.
 * With `optional`, a path the volume does not have is no error and copies nothing.
 */
export async function copyOut(
  workspace: Workspace,
  volume: string,
  path: string,
  dest: string,
  opts: { readonly optional?: boolean } = {},
): Promise<void> {
  let tar: AsyncIterable<Uint8Array>;
  try {
    tar = await workspace.get(volume, path);
  } catch (err) {
    if (opts.optional && err instanceof DriverError && err.code === "CNBP_NOT_FOUND") return;
    throw err;
  }
  await extractLayer(tar, dest, { label: `${volume} volume ${path}`, ownership: "none" });
}
