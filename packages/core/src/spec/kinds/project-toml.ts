/**
 * project.toml: the project descriptor (shared/spec/distribution.md 7). Schema 0.2 (and pack's 0.3,
 * which adds `exec-env`) has a `[_]` table; a file without one is the legacy 0.1 shape. As pack does,
 * unknown keys in the tables the schema defines are warnings (pack ignores them), and every other
 * top-level table is free.
 */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { apiVersionString, describeIssue, freeTable, license, moduleId, versionRef } from "../schema.js";

const execEnv = z.array(z.string()).optional();

const envVar = z.looseObject({ name: z.string().min(1), value: z.string(), "exec-env": execEnv });

/** An inline buildpack: `bin/build` runs `inline` with `shell`. */
const script = z.looseObject({
  api: apiVersionString,
  inline: z.string(),
  shell: z.string().min(1).optional(),
});

/** A group entry: id with version, a uri, or an id with a script; an id alone is resolved later. */
const groupEntry = z.looseObject({
  id: moduleId.optional(),
  version: versionRef.optional(),
  uri: z.string().min(1).optional(),
  script: script.optional(),
  "exec-env": execEnv,
});

const group = z.array(groupEntry).optional();

const projectInfo = {
  id: z.string().optional(),
  name: z.string().optional(),
  version: z.string().optional(),
  authors: z.array(z.string()).optional(),
  "documentation-url": z.string().optional(),
  "source-url": z.string().optional(),
  licenses: z.array(license).optional(),
};

const ioBuildpacks = z.looseObject({
  builder: z.string().min(1).optional(),
  include: z.array(z.string()).optional(),
  exclude: z.array(z.string()).optional(),
  group,
  pre: z.looseObject({ group }).optional(),
  post: z.looseObject({ group }).optional(),
  build: z.looseObject({ env: z.array(envVar).optional() }).optional(),
  // the misspelt form pack still reads
  env: z.looseObject({ build: z.array(envVar).optional() }).optional(),
});

const current = z.looseObject({
  _: z.looseObject({
    "schema-version": z.enum(["0.2", "0.3"]),
    ...projectInfo,
    metadata: freeTable.optional(),
  }),
  io: z.looseObject({ buildpacks: ioBuildpacks.optional() }).optional(),
});

const legacy = z.looseObject({
  project: z.looseObject(projectInfo).optional(),
  build: z
    .looseObject({
      include: z.array(z.string()).optional(),
      exclude: z.array(z.string()).optional(),
      builder: z.string().min(1).optional(),
      buildpacks: group,
      env: z.array(envVar).optional(),
    })
    .optional(),
  metadata: freeTable.optional(),
});

export type ProjectDescriptorV02 = z.infer<typeof current>;
export type ProjectDescriptorLegacy = z.infer<typeof legacy>;
export type ProjectDescriptor = ProjectDescriptorV02 | ProjectDescriptorLegacy;

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function isLegacyProject(p: ProjectDescriptor): p is ProjectDescriptorLegacy {
  return !("_" in p);
}

// The shape is chosen by the presence of `[_]`, so problems name fields of that shape only.
const schema = z.unknown().transform((value, ctx): ProjectDescriptor => {
  const shape: z.ZodType<ProjectDescriptor> = isTable(value) && "_" in value ? current : legacy;
  const result = shape.safeParse(value, { reportInput: true, error: describeIssue });
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ ...issue });
  return z.NEVER;
});

/** Keys of `value` its schema does not name, at any depth of objects and arrays. */
function unknownKeys(schema: z.ZodType, value: unknown, path: (string | number)[]): Finding[] {
  if (schema instanceof z.ZodOptional) return unknownKeys(schema.unwrap() as z.ZodType, value, path);
  if (schema instanceof z.ZodArray && Array.isArray(value)) {
    return value.flatMap((v, i) => unknownKeys(schema.element as z.ZodType, v, [...path, i]));
  }
  if (!(schema instanceof z.ZodObject) || !isTable(value)) return [];
  const shape = schema.shape as Record<string, z.ZodType>;
  return Object.entries(value).flatMap(([key, v]) => {
    const known = shape[key];
    if (known) return unknownKeys(known, v, [...path, key]);
    return [
      { path: [...path, key], message: "is not a known field (ignored)", severity: "warning" as const },
    ];
  });
}

function listed(words: string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : (words[0] ?? "");
}

function checkGroup(entries: z.infer<typeof group>, path: (string | number)[]): Finding[] {
  return (entries ?? []).flatMap((entry, i): Finding[] => {
    const given = (["version", "uri", "script"] as const).filter((k) => entry[k] !== undefined);
    if (given.length > 1) {
      return [{ path: [...path, i], message: `has ${listed(given)}: give only one of version, uri, script` }];
    }
    if (!entry.id && !entry.uri) {
      const message = entry.script ? "has a script but no id: give one" : "has neither id nor uri: give one";
      return [{ path: [...path, i], message }];
    }
    return [];
  });
}

function checkIncludeExclude(table: { include?: unknown; exclude?: unknown } | undefined, path: string[]) {
  return table?.include && table.exclude ? [{ path, message: "has both include and exclude: give one" }] : [];
}

function checkCurrent(p: ProjectDescriptorV02): Finding[] {
  const bp = p.io?.buildpacks;
  const at = ["io", "buildpacks"];
  const findings: Finding[] = [
    ...unknownKeys(current.shape._, p._, ["_"]),
    ...(bp ? unknownKeys(ioBuildpacks, bp, at) : []),
    ...checkIncludeExclude(bp, at),
    ...checkGroup(bp?.group, [...at, "group"]),
    ...checkGroup(bp?.pre?.group, [...at, "pre", "group"]),
    ...checkGroup(bp?.post?.group, [...at, "post", "group"]),
  ];
  if (bp?.env) {
    findings.push({
      path: [...at, "env"],
      message: "is deprecated: use [[io.buildpacks.build.env]]",
      severity: "warning",
    });
  }
  if (p._["schema-version"] === "0.2") {
    const entries = [
      ...(bp?.group ?? []).map((e, i) => ({ e, path: [...at, "group", i] })),
      ...(bp?.pre?.group ?? []).map((e, i) => ({ e, path: [...at, "pre", "group", i] })),
      ...(bp?.post?.group ?? []).map((e, i) => ({ e, path: [...at, "post", "group", i] })),
      ...(bp?.build?.env ?? []).map((e, i) => ({ e, path: [...at, "build", "env", i] })),
    ];
    for (const { e, path } of entries) {
      if (e["exec-env"]) {
        findings.push({
          path: [...path, "exec-env"],
          message: 'needs schema-version "0.3" (ignored)',
          severity: "warning",
        });
      }
    }
  }
  return findings;
}

function checkLegacy(p: ProjectDescriptorLegacy): Finding[] {
  const findings: Finding[] = [
    { path: [], message: "has no [_] schema-version: read as legacy schema 0.1", severity: "warning" },
    ...unknownKeys(legacy.shape.project, p.project, ["project"]),
    ...unknownKeys(legacy.shape.build, p.build, ["build"]),
    ...checkIncludeExclude(p.build, ["build"]),
    ...checkGroup(p.build?.buildpacks, ["build", "buildpacks"]),
  ];
  const io = (p as Record<string, unknown>).io;
  if (isTable(io) && io.buildpacks !== undefined) {
    findings.push({
      path: ["io", "buildpacks"],
      message: 'is ignored without [_] schema-version = "0.2"',
      severity: "warning",
    });
  }
  return findings;
}

export const projectToml: FileKind<ProjectDescriptor> = {
  name: "project.toml",
  fileNames: ["project.toml"],
  format: "toml",
  summary: "the project descriptor (schema 0.2, or legacy 0.1 without [_])",
  schema,
  check(p) {
    return isLegacyProject(p) ? checkLegacy(p) : checkCurrent(p);
  },
};
