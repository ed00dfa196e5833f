/**
 * A kind of CNB file (buildpack.toml, analyzed.toml, a JSON image label, ...): how it is recognised,
 * parsed, validated and written. Every kind goes through the same functions below, so every file error
 * reads the same way and names the file, the field and what was found.
 */
import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { type Problem, ValidationError } from "../errors.js";
import { describeIssue } from "./schema.js";
import { parseToml, stringifyToml, type TomlTable } from "./toml.js";

/** API versions a file is read against, when the file itself does not say. */
export interface SpecContext {
  /** Buildpack API of the module that wrote the file (launch.toml, `<layer>.toml`, ...). */
  readonly buildpackApi?: string;
  /** Platform API the platform and lifecycle speak (metadata.toml, analyzed.toml, ...). */
  readonly platformApi?: string;
}

/** A problem found by a kind's own checks, before the file name is attached. */
export interface Finding {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly severity?: "error" | "warning";
}

export interface FileKind<T> {
  /** The `--kind` name: the file's usual name, or the label name for JSON labels. */
  readonly name: string;
  /** File names recognised as this kind when validating by name. */
  readonly fileNames: readonly string[];
  readonly format: "toml" | "json";
  /** One line for `cnbp validate --list-kinds`. */
  readonly summary: string;
  readonly schema: z.ZodType<T>;
  /** Rules the schema cannot express: cross-field rules and fields gated by API version. */
  check?(value: T, ctx: SpecContext): Finding[];
}

// biome-ignore lint/suspicious/noExplicitAny: a list of kinds holds every file type
export type AnyFileKind = FileKind<any>;

export type SpecParse<T> =
  | { ok: true; value: T; problems: Problem[] }
  | { ok: false; value?: undefined; problems: Problem[] };

/** Parses and validates `text` as `kind`; every problem found is returned, warnings included. */
export function parseSpec<T>(
  kind: FileKind<T>,
  text: string,
  file: string,
  ctx: SpecContext = {},
): SpecParse<T> {
  const raw = kind.format === "toml" ? parseToml(text, file) : parseJson(text, file);
  if (!raw.ok) return { ok: false, problems: [raw.problem] };
  return validateSpec(kind, raw.value, file, ctx);
}

/** Validates already-parsed data (e.g. a label's JSON) as `kind`. */
export function validateSpec<T>(
  kind: FileKind<T>,
  data: unknown,
  file: string,
  ctx: SpecContext = {},
): SpecParse<T> {
  const result = kind.schema.safeParse(data, { reportInput: true, error: describeIssue });
  if (!result.success) {
    const problems = result.error.issues.flatMap((iss): Problem[] => {
      // one problem per unknown key, so each names its own field
      if (iss.code === "unrecognized_keys") {
        return iss.keys.map((key) => ({
          file,
          path: [...(iss.path as (string | number)[]), key],
          message: "is not a known field",
          severity: "error" as const,
        }));
      }
      return [
        { file, path: iss.path as (string | number)[], message: iss.message, severity: "error" as const },
      ];
    });
    return { ok: false, problems };
  }
  const findings = kind.check?.(result.data, ctx) ?? [];
  const problems = findings.map((f) => ({
    file,
    path: f.path,
    message: f.message,
    severity: f.severity ?? "error",
  }));
  if (problems.some((p) => p.severity === "error")) return { ok: false, problems };
  return { ok: true, value: result.data, problems };
}

/** Reads and validates a file; throws a ValidationError carrying every problem when it is invalid. */
export async function readSpecFile<T>(kind: FileKind<T>, path: string, ctx: SpecContext = {}): Promise<T> {
  return parseSpecOrThrow(kind, await readFile(path, "utf8"), path, ctx);
}

export function parseSpecOrThrow<T>(kind: FileKind<T>, text: string, file: string, ctx: SpecContext = {}): T {
  const parsed = parseSpec(kind, text, file, ctx);
  if (!parsed.ok) throw new ValidationError(file, parsed.problems);
  return parsed.value;
}

/** The file's text for a value of `kind`: TOML, or compact JSON as image labels carry it. */
export function serializeSpec<T>(kind: FileKind<T>, value: T): string {
  return kind.format === "toml" ? stringifyToml(value as TomlTable) : JSON.stringify(value);
}

function parseJson(
  text: string,
  file: string,
): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? lineColumn(text, Number(at[1])) : {};
    const reason = message.replace(/ in JSON at position \d+.*$/, "").replace(/^JSON\.parse: /, "");
    return {
      ok: false,
      problem: { file, path: [], message: `is not valid JSON: ${reason}`, severity: "error", ...where },
    };
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
