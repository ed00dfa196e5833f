/** The file access discovery needs, injectable so tests and other hosts can pass their own. */
import { access, readdir, readFile } from "node:fs/promises";

export interface PluginFiles {
  /** The file's text, or `undefined` when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Names of a directory's entries, or `undefined` when it is not a readable directory. */
  list(dir: string): Promise<string[] | undefined>;
  exists(path: string): Promise<boolean>;
}

const missing = (err: unknown) => ["ENOENT", "ENOTDIR"].includes((err as { code?: string }).code ?? "");

export const nodePluginFiles: PluginFiles = {
  async readText(path) {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  },
  async list(dir) {
    try {
      return (await readdir(dir)).sort();
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  },
  async exists(path) {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  },
};
