/** Reading and writing the user's config file: validated on read, kept valid and private (0600) on write. */
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Problem, ValidationError } from "../errors.js";
import { parseSpec, validateSpec } from "../spec/file-kind.js";
import { stringifyToml } from "../spec/toml.js";
import { tomlLineOf } from "../spec/toml-lines.js";
import { type CnbpConfig, configFileKind } from "./schema.js";

export interface UserConfig {
  /** The file it was read from (it need not exist: then `values` is empty). */
  readonly path: string;
  readonly values: CnbpConfig;
}

/**
 * Reads the config file at `path`; a missing file is an empty config. Throws ValidationError naming the file
 * and, where it can, the line: `<path>:3:1: is not valid TOML: ...`, `<path>:2: color is not a known field`.
 */
export async function loadConfig(path: string): Promise<UserConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return { path, values: {} };
    throw fileError(path, `cannot be read: ${(err as Error).message}`);
  }
  const parsed = parseSpec(configFileKind, text, path);
  if (!parsed.ok)
    throw new ValidationError(
      path,
      parsed.problems.map((p) => withLine(p, text)),
    );
  return { path, values: parsed.value };
}

/**
 * Writes `values` to `path` after checking them, creating its folders; the file is replaced in one rename, so
 * it is never left half-written, and is readable by its owner only (it may name private registries or hosts).
 */
export async function saveConfig(path: string, values: CnbpConfig): Promise<void> {
  const checked = validateSpec(configFileKind, values, path);
  if (!checked.ok) throw new ValidationError(path, checked.problems);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temp, stringifyToml(ordered(checked.value)), { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw fileError(path, `cannot be written: ${(err as Error).message}`);
  }
}

/** The schema's key order, driver tables by name: the same settings always make the same file. */
function ordered(values: CnbpConfig): CnbpConfig {
  const drivers = values.drivers
    ? Object.fromEntries(Object.entries(values.drivers).sort(([a], [b]) => a.localeCompare(b)))
    : undefined;
  return {
    driver: values.driver,
    "default-builder": values["default-builder"],
    "pull-policy": values["pull-policy"],
    "trusted-builders": values["trusted-builders"],
    drivers,
  };
}

function withLine(p: Problem, text: string): Problem {
  if (p.line) return p;
  const line = tomlLineOf(text, p.path);
  return line ? { ...p, line } : p;
}

const fileError = (path: string, message: string) =>
  new ValidationError(path, [{ file: path, path: [], message, severity: "error" }]);
