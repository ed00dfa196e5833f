/** Helpers for the layout tests: temporary directories and real layer tars made by GNU tar. */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";
import type { ImageConfig } from "../../oci.js";

const made: string[] = [];
afterAll(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A temporary directory removed after the test file. */
export async function tempDir(prefix = "cnbp-layout-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** An uncompressed layer tar of `files` (path -> content), made with `tar --sort=name -C <dir> -c .`. */
export async function layerTar(files: Record<string, string>): Promise<Buffer> {
  const root = await tempDir("cnbp-layer-");
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return execFileSync(
    "tar",
    ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@315532801", "-C", root, "-c", "."],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

export function config(diffIds: string[], extra: Partial<ImageConfig> = {}): ImageConfig {
  return {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin:/bin"], Labels: { "io.cnbp.test": "yes" } },
    rootfs: { type: "layers", diff_ids: diffIds },
    ...extra,
  };
}
