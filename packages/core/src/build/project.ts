/**
 * What a build takes from the app's project.toml (distribution.md 7): the builder, include/exclude, the
 * build-time environment and the buildpacks (group, pre, post). An absent file is no project descriptor; a file that does not validate stops the
 * build before anything starts, naming the file and field.
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { UsageError } from "../errors.js";
import { parseSpecOrThrow } from "../spec/file-kind.js";
import { isLegacyProject, type ProjectDescriptorLegacy, projectToml } from "../spec/kinds/project-toml.js";
import type { AppFilter } from "./app-source.js";
import type { BuildpackSpec } from "./buildpack-refs.js";
import type { BuildpackChoice } from "./extra-buildpacks.js";

export interface ProjectSettings {
  readonly builder?: string;
  readonly filter: AppFilter;
  readonly env: Readonly<Record<string, string>>;
  readonly buildpacks: Required<BuildpackChoice>;
}

/** A group of buildpacks in project.toml (`[[io.buildpacks.group]]`, `pre`, `post`, or the legacy one). */
type ProjectGroup = NonNullable<ProjectDescriptorLegacy["build"]>["buildpacks"];

const NONE = { group: [], pre: [], post: [] };

export async function readProject(file: string, required: boolean): Promise<ProjectSettings> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    if (!required) return { filter: {}, env: {}, buildpacks: NONE };
    throw new UsageError(`project descriptor ${file} does not exist`, {
      hints: ["check --descriptor, or leave it out to read project.toml from the app directory"],
    });
  }
  const p = parseSpecOrThrow(projectToml, text, file);
  const specs = (entries: ProjectGroup, field: string): BuildpackSpec[] =>
    (entries ?? []).map((e, i) => {
      const where = `${file}: ${field}[${i}]`;
      if (e.uri) return { where, ref: e.uri, baseDir: dirname(file) };
      if (e.script) return { where, id: e.id as string, script: e.script };
      return { where, id: e.id as string, ...(e.version ? { version: e.version } : {}) };
    });
  const buildpacks = isLegacyProject(p)
    ? { group: specs(p.build?.buildpacks, "build.buildpacks"), pre: [], post: [] }
    : {
        group: specs(p.io?.buildpacks?.group, "io.buildpacks.group"),
        pre: specs(p.io?.buildpacks?.pre?.group, "io.buildpacks.pre.group"),
        post: specs(p.io?.buildpacks?.post?.group, "io.buildpacks.post.group"),
      };
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
    buildpacks,
  };
}
