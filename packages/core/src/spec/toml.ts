/**
 * The one module that parses and writes TOML. smol-toml implements TOML 1.0/1.1 and reports syntax
 * errors with line and column, which become a Problem naming the file.
 */
import { parse, stringify, TomlError } from "smol-toml";
import type { Problem } from "../errors.js";

export type TomlTable = Record<string, unknown>;

export type TomlParse = { ok: true; value: TomlTable } | { ok: false; problem: Problem };

export function parseToml(text: string, file: string): TomlParse {
  try {
    return { ok: true, value: plain(parse(text)) as TomlTable };
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.split("\n")[0]?.replace(/^Invalid TOML document:\s*/, "") ?? "syntax error";
    return {
      ok: false,
      problem: {
        file,
        path: [],
        message: `is not valid TOML: ${reason}`,
        severity: "error",
        line: err.line,
        column: err.column,
      },
    };
  }
}

/**
 * TOML text for a table. Keys whose value is undefined are dropped (Go's `omitempty` habit: readers
 * treat absent and empty alike), so schema output can be written as is.
 */
export function stringifyToml(value: TomlTable): string {
  return stringify(dropUndefined(value) as TomlTable);
}

/** smol-toml returns date-times as TomlDate objects; CNB files have none, but keep values plain data. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, dropUndefined(v)]),
    );
  }
  return value;
}
