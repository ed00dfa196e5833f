/** Test fixtures of the lifecycle's tests: temp dirs, layer tars, hand-made tars, a captured log, dir trees. */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { writeDirLayer } from "@cnbp/core";
import { createLog, type Log } from "../../log.js";

const dirs: string[] = [];

export async function tempDir(prefix = "cnbp-cache-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A log whose lines are kept: `out` (debug, info) and `err` (warnings, errors), without trailing newlines. */
export function captureLog(level = "info"): { log: Log; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const log = createLog(
    level,
    { write: (s: string) => out.push(s.replace(/\n$/, "")) },
    { write: (s: string) => err.push(s.replace(/\n$/, "")) },
  );
  return { log, out, err };
}

/**
 * A layer dir `hostDir` with the given files (relative path -> content), written as the layer of that same
 * container path (as the exporter writes cached layers) to `tarPath`: a plain tar, or gzipped.
 */
export async function makeLayer(
  hostDir: string,
  files: Readonly<Record<string, string>>,
  tarPath: string,
  gzip = false,
): Promise<{ tarPath: string; diffId: string; digest: string; size: number }> {
  await mkdir(hostDir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(hostDir, rel)), { recursive: true });
    await writeFile(join(hostDir, rel), content);
  }
  await mkdir(dirname(tarPath), { recursive: true });
  const result = await writeDirLayer(hostDir, hostDir, tarPath, { gzip });
  return { tarPath, diffId: result.diffId, digest: result.digest, size: result.size };
}

export interface RawEntry {
  readonly name: string;
  readonly type?: "file" | "directory";
  readonly content?: string;
}

/** A ustar archive written by hand, names as given (a tar no writer of ours would make: `..` names). */
export function rawTar(entries: readonly RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.content ?? "");
    const header = Buffer.alloc(512);
    const put = (text: string, offset: number, length: number) => {
      header.write(text.slice(0, length), offset, length, "utf8");
    };
    const octal = (n: number, length: number) => `${n.toString(8).padStart(length - 1, "0")}\0`;
    put(e.name, 0, 100);
    put(octal(e.type === "directory" ? 0o755 : 0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(e.type === "directory" ? 0 : body.length, 12), 124, 12);
    put(octal(315532801, 12), 136, 12);
    put("        ", 148, 8);
    put(e.type === "directory" ? "5" : "0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    let sum = 0;
    for (const byte of header) sum += byte;
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
    blocks.push(header);
    if (e.type !== "directory" && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** All the bytes of a stream. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Every path under `dir` (directories with a trailing `/`) with the content of files, in name order. */
export async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[`${relative(dir, p)}/`] = "";
        await walk(p);
      } else out[relative(dir, p)] = await readFile(p, "utf8");
    }
  };
  await walk(dir);
  return out;
}
