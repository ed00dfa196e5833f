/** A temporary directory for one authoring run: downloads, extracted archives, layer files. Always removed. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Scratch {
  readonly dir: string;
  /** A fresh path inside the scratch dir (nothing is created). */
  path(name: string): string;
}

export async function withScratch<T>(fn: (scratch: Scratch) => Promise<T>, parent = tmpdir()): Promise<T> {
  const dir = await mkdtemp(join(parent, "cnbp-authoring-"));
  let n = 0;
  try {
    return await fn({ dir, path: (name) => join(dir, `${n++}-${name.replace(/[^A-Za-z0-9._-]/g, "_")}`) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
