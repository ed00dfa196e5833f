/**
 * builder.toml and package.toml as authoring reads them: validated with their kind, every problem with the
 * line it is on, so that later checks (an order entry naming no buildpack) can point at the line too.
 */
import { readFile } from "node:fs/promises";
import { type Problem, ValidationError } from "../errors.js";
import { type FileKind, parseSpec } from "../spec/file-kind.js";
import { tomlLineOf } from "../spec/toml-lines.js";
import { SourceError } from "./context.js";

export class ConfigFile<T> {
  private constructor(
    readonly file: string,
    private readonly text: string,
    readonly value: T,
    readonly warnings: readonly Problem[],
  ) {}

  static async read<T>(kind: FileKind<T>, file: string): Promise<ConfigFile<T>> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new ValidationError(file, [
        { file, path: [], message: `cannot be read: ${(err as Error).message}`, severity: "error" },
      ]);
    }
    const parsed = parseSpec(kind, text, file);
    const located = parsed.problems.map((p) => (p.line ? p : withLine(p, text)));
    if (!parsed.ok) throw new ValidationError(file, located);
    return new ConfigFile(file, text, parsed.value, located);
  }

  /** A problem at `path`, with its line. */
  problem(path: readonly (string | number)[], message: string): Problem {
    return withLine({ file: this.file, path, message, severity: "error" }, this.text);
  }

  /** Throws the problems found, if any is an error. */
  check(problems: readonly Problem[]): void {
    if (problems.some((p) => p.severity === "error")) throw new ValidationError(this.file, problems);
  }

  fail(path: readonly (string | number)[], message: string): never {
    throw new ValidationError(this.file, [this.problem(path, message)]);
  }

  /** Runs a resolution step; a source that cannot be used becomes a problem at the field that named it. */
  async source<R>(path: readonly (string | number)[], fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SourceError) this.fail(path, err.message);
      throw err;
    }
  }
}

function withLine(p: Problem, text: string): Problem {
  const line = tomlLineOf(text, p.path);
  return line ? { ...p, line } : p;
}
