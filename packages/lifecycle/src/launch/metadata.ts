/**
 * What the launcher reads of `<layers>/config/metadata.toml` (files.md 1.7): the buildpacks (id and API, in
 * group order) and their processes. A small reader rather than core's schema, which would bring zod and all of
 * @cnbp/core into the launcher; errors still name the file and the field.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";
import { ExitCode, LifecycleError } from "../exit-codes.js";

export interface LaunchBuildpack {
  readonly id: string;
  readonly api: string;
}

export interface LaunchProcess {
  readonly type: string;
  /** One entry before Platform API 0.10 (a string in the file), else the executable and its fixed args. */
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly direct?: boolean;
  readonly buildpackId?: string;
  readonly workingDir?: string;
  readonly execEnv?: readonly string[];
}

export interface LaunchMetadata {
  readonly buildpacks: readonly LaunchBuildpack[];
  readonly processes: readonly LaunchProcess[];
}

export const metadataPath = (layersDir: string) => join(layersDir, "config", "metadata.toml");

export async function readLaunchMetadata(layersDir: string): Promise<LaunchMetadata> {
  const file = metadataPath(layersDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new LifecycleError(ExitCode.launch, `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseLaunchMetadata(text, file);
}

export function parseLaunchMetadata(text: string, file: string): LaunchMetadata {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.split("\n")[0]?.replace(/^Invalid TOML document:\s*/, "");
    throw new LifecycleError(ExitCode.launch, `${file}: not valid TOML: ${reason} (line ${err.line})`);
  }
  const fail = (path: string, expected: string): never => {
    throw new LifecycleError(ExitCode.launch, `${file}: ${path} must be ${expected}`);
  };
  const tables = (key: string) => {
    const value = doc[key] ?? [];
    if (!Array.isArray(value) || value.some((t) => typeof t !== "object" || t === null || Array.isArray(t)))
      fail(key, "an array of tables");
    return value as Record<string, unknown>[];
  };
  const str = (t: Record<string, unknown>, path: string, key: string, optional = false) => {
    const value = t[key];
    if (value === undefined && optional) return undefined;
    return typeof value === "string" ? value : fail(`${path}.${key}`, "a string");
  };
  const strings = (t: Record<string, unknown>, path: string, key: string) => {
    const value = t[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) && value.every((v) => typeof v === "string")
      ? (value as string[])
      : fail(`${path}.${key}`, "an array of strings");
  };

  const buildpacks = tables("buildpacks").map((t, i) => ({
    id: str(t, `buildpacks[${i}]`, "id") as string,
    api: str(t, `buildpacks[${i}]`, "api") as string,
  }));
  const processes = tables("processes").map((t, i): LaunchProcess => {
    const at = `processes[${i}]`;
    const command = typeof t.command === "string" ? [t.command] : strings(t, at, "command");
    if (!command?.length) fail(`${at}.command`, "a non-empty array of strings");
    if (t.direct !== undefined && typeof t.direct !== "boolean") fail(`${at}.direct`, "a boolean");
    return {
      type: str(t, at, "type") as string,
      command: command as string[],
      args: strings(t, at, "args") ?? [],
      direct: t.direct as boolean | undefined,
      buildpackId: str(t, at, "buildpack-id", true),
      workingDir: str(t, at, "working-dir", true),
      execEnv: strings(t, at, "exec-env"),
    };
  });
  return { buildpacks, processes };
}
