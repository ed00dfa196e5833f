/**
 * What a build takes from the app's project.toml (distribution.md 7): the builder, include/exclude and the
 * build-time environment. An absent file is no project descriptor; a file that does not validate stops the
 * build before anything starts, naming the file and field.
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { parseSpecOrThrow } from "../spec/file-kind.js";
import { isLegacyProject, projectToml } from "../spec/kinds/project-toml.js";
import type { AppFilter } from "./app-source.js";

export interface ProjectSettings {
  readonly builder?: string;
  readonly filter: AppFilter;
  readonly env: Readonly<Record<string, string>>;
}

export async function readProject(file: string, required: boolean): Promise<ProjectSettings> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    if (!required) return { filter: {}, env: {} };
    throw new UsageError(`project descriptor ${file} does not exist`, {
      hints: ["check --descriptor, or leave it out to read project.toml from the app directory"],
    });
  }
  const p = parseSpecOrThrow(projectToml, text, file);
  const table = isLegacyProject(p)
    ? { ...p.build, env: p.build?.env }
    : { ...p.io?.buildpacks, env: p.io?.buildpacks?.build?.env ?? p.io?.buildpacks?.env?.build };
  return {
    ...(table.builder ? { builder: table.builder } : {}),
    filter: {
      ...(table.include ? { include: table.include } : {}),
      ...(table.exclude ? { exclude: table.exclude } : {}),
    },
    env: Object.fromEntries((table.env ?? []).map((e) => [e.name, e.value])),
  };
}
