/** Test fixtures of the layer tests: temp dirs, a layer dir tree, hand-made tars. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  chown,
  link,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Header, pack } from "tar-stream";

const dirs: string[] = [];

export async function tempDir(prefix = "cnbp-layer-"): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Removes the temp dirs and the files tests wrote next to them (`<dir>.tgz`, `<dir>.tar`, ...). */
export async function removeTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) {
    await rm(dir, { recursive: true, force: true });
    const prefix = `${path.basename(dir)}.`;
    for (const name of await readdir(path.dirname(dir))) {
      if (name.startsWith(prefix))
        await rm(path.join(path.dirname(dir), name), { recursive: true, force: true });
    }
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/**
 * `<base>/layers/bp/node` with parents `<base>/layers` (0750) and `<base>/layers/bp` (0700), created in the
 * given order, with files' mtimes/atimes set to `time`:
 *
 *     a/x  a.txt  bin/node (0755)  empty/  hard (= lib/a.txt)  lib/a.txt  lib/b.txt (linked from outside)
 *     link -> lib/a.txt  abs -> /layers/bp/node/bin/node
 */
export async function makeLayerTree(base: string, opts: { reverse?: boolean; time: Date }): Promise<string> {
  const layers = path.join(base, "layers");
  const bp = path.join(layers, "bp");
  const node = path.join(bp, "node");
  await mkdir(node, { recursive: true });
  await chmod(layers, 0o750);
  await chmod(bp, 0o700);
  await chmod(node, 0o755);
  const steps: (() => Promise<void>)[] = [
    async () => {
      await mkdir(path.join(node, "a"), { mode: 0o755 });
      await writeFile(path.join(node, "a", "x"), "x\n", { mode: 0o644 });
    },
    async () => writeFile(path.join(node, "a.txt"), "a dot txt\n", { mode: 0o600 }),
    async () => {
      await mkdir(path.join(node, "bin"), { mode: 0o755 });
      await writeFile(path.join(node, "bin", "node"), "#!/bin/sh\necho node\n", { mode: 0o755 });
    },
    async () => mkdir(path.join(node, "empty"), { mode: 0o700 }),
    async () => {
      await mkdir(path.join(node, "lib"), { mode: 0o755 });
      await writeFile(path.join(node, "lib", "a.txt"), "shared by a hard link\n", { mode: 0o644 });
      await link(path.join(node, "lib", "a.txt"), path.join(node, "hard"));
      await writeFile(path.join(base, "outside.txt"), "linked from outside\n", { mode: 0o644 });
      await link(path.join(base, "outside.txt"), path.join(node, "lib", "b.txt"));
    },
    async () => symlink("lib/a.txt", path.join(node, "link")),
    async () => symlink("/layers/bp/node/bin/node", path.join(node, "abs")),
  ];
  if (opts.reverse) steps.reverse();
  for (const step of steps) await step();
  for (const rel of ["a/x", "a.txt", "bin/node", "lib/a.txt", "lib/b.txt", "a", "bin", "empty", "lib", "."]) {
    await utimes(path.join(node, rel), opts.time, opts.time);
  }
  await chown(node, 0, 0);
  return node;
}

export interface TarSpec {
  readonly header: Partial<Header> & { name: string };
  readonly content?: string;
}

/** A tar made by hand (for entries the writer never makes). */
export async function makeTar(entries: readonly TarSpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of p as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.content !== undefined) p.entry(e.header, e.content, cb);
      else p.entry(e.header, cb);
    });
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}
