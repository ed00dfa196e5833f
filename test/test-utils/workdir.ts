/** A test's own temp dir: the files it builds from, its apps, and the env of a cnbp whose cache and config live there. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Files by their path below a directory. */
export type Files = Readonly<Record<string, string>>;

/** Writes `files` below `root`; those in a bin/ directory (buildpacks' and extensions' scripts) are executable. */
export async function writeFiles(root: string, files: Files): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    if (path.includes("/bin/")) await chmod(file, 0o755);
  }
}

/** A new temp dir holding `files`, and the environment of a cnbp that keeps its cache and config in it. */
export async function cnbpWorkdir(prefix: string, files: Files = {}) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFiles(dir, files);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    CNBP_CACHE_DIR: join(dir, "cache"),
    CNBP_CONFIG: join(dir, "config.toml"),
  };
  return { dir, env };
}

/** Writes the app directory `<dir>/<name>` afresh, holding only `files`; resolves to its path. */
export async function writeApp(dir: string, name: string, files: Files): Promise<string> {
  const app = join(dir, name);
  await rm(app, { recursive: true, force: true });
  await writeFiles(app, files);
  return app;
}
