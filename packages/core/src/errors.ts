/**
 * cnbp's errors: one base class with a stable machine `code` (API: never renamed) and human `hints`.
 * Messages say whose error it is first ("buildpack.toml: ...", "driver podman: ...").
 * Only the CLI turns them into exit codes.
 */
export type ErrorCode = `CNBP_${string}`;

export class CnbpError extends Error {
  readonly hints: readonly string[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: { hints?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = new.target.name;
    this.hints = extra.hints ?? [];
  }
}

/** Wrong command-line usage: a flag, an argument or their combination. */
export class UsageError extends CnbpError {
  constructor(message: string, extra: { hints?: readonly string[] } = {}) {
    super("CNBP_USAGE", message, extra);
  }
}

/** One thing wrong with a file: where (field path, line) and what. */
export interface Problem {
  readonly file: string;
  /** Field path inside the file, e.g. ["order", 0, "group", 1, "id"]; empty for the whole file. */
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly severity: "error" | "warning";
  readonly line?: number;
  readonly column?: number;
}

/** A file that does not parse or does not match its schema; carries every problem found in it. */
export class ValidationError extends CnbpError {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    const errors = problems.filter((p) => p.severity === "error");
    const first = errors[0] ?? problems[0];
    const more =
      errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
    super("CNBP_INVALID_FILE", `${first ? formatProblem(first) : `${file}: invalid`}${more}`);
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(part)) out += out ? `.${part}` : part;
    else out += out ? `.${JSON.stringify(part)}` : JSON.stringify(part);
  }
  return out;
}

/** `file:line:column: path message`, each part only when known. */
export function formatProblem(p: Problem): string {
  const where = p.line ? `${p.file}:${p.line}${p.column ? `:${p.column}` : ""}` : p.file;
  const path = formatPath(p.path);
  const tag = p.severity === "warning" ? "warning: " : "";
  return `${where}: ${tag}${path ? `${path} ` : ""}${p.message}`;
}
