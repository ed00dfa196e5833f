/**
 * A small Dockerfile reader, enough to check what extensions write (shared/spec/extensions.md 3): parser
 * directives (only `escape` changes anything), comments, line continuations, case-insensitive keywords.
 * It does not expand variables or run anything. Heredocs (`RUN <<EOF`) are refused with a clear message
 * rather than half-parsed.
 */

/** One instruction: its keyword upper-cased, its arguments with continuation lines joined, where it starts. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** A Dockerfile that cannot be read as one: the line and what is wrong there. */
export class DockerfileSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "DockerfileSyntaxError";
  }
}

const KEYWORDS = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** Instructions whose arguments BuildKit scans for heredocs. */
const HEREDOC_KEYWORDS = new Set(["RUN", "COPY", "ADD"]);
const HEREDOC = /(?<!<)<<(?!<)-?\s*["']?[A-Za-z_][A-Za-z0-9_]*/;

const DIRECTIVE = /^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$/;

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let escapeChar = "\\";
  let directivesOpen = true;
  let pending: { line: number; text: string } | undefined;

  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    if (directivesOpen) {
      const directive = DIRECTIVE.exec(raw);
      if (directive) {
        const [, name = "", value = ""] = directive;
        if (name.toLowerCase() === "escape") {
          if (value !== "\\" && value !== "`") {
            throw new DockerfileSyntaxError(line, `escape directive must be \\ or \`, found "${value}"`);
          }
          escapeChar = value;
        }
        continue;
      }
      directivesOpen = false;
    }
    const content = raw.trim();
    // comments and blank lines are dropped, also between continuation lines (as Docker does)
    if (content === "" || content.startsWith("#")) continue;
    const continues = content.endsWith(escapeChar);
    // the escape and the line break go; the next line's own spacing stays, as Docker joins them
    const kept = pending ? raw.trimEnd() : content;
    const body = continues ? kept.slice(0, -escapeChar.length) : kept;
    pending = pending ? { line: pending.line, text: pending.text + body } : { line, text: body };
    if (!continues) {
      instructions.push(toInstruction(pending));
      pending = undefined;
    }
  }
  if (pending) instructions.push(toInstruction(pending));
  return instructions;
}

function toInstruction({ line, text }: { line: number; text: string }): Instruction {
  const [, word = "", args = ""] = /^(\S+)\s*([\s\S]*?)\s*$/.exec(text) ?? [];
  const keyword = word.toUpperCase();
  if (!KEYWORDS.has(keyword)) throw new DockerfileSyntaxError(line, `unknown instruction ${word}`);
  if (args === "") throw new DockerfileSyntaxError(line, `${keyword} needs arguments`);
  const heredoc = HEREDOC_KEYWORDS.has(keyword) ? HEREDOC.exec(args) : null;
  if (heredoc) {
    throw new DockerfileSyntaxError(
      line,
      `${keyword} uses a heredoc (${heredoc[0]}), which cnbp's lifecycle does not support: put the commands on the ${keyword} line`,
    );
  }
  return { keyword, args, line };
}

/** The image of a `FROM [--flag=value ...] <image> [AS <name>]`. */
export function fromImage(from: Instruction): string {
  return words(from.args).find((word) => !word.startsWith("--")) ?? "";
}

/** The names an `ARG name[=default] [name2[=default2] ...]` declares. */
export function argNames(arg: Instruction): string[] {
  return words(arg.args).map((word) => word.split("=")[0] ?? word);
}

/** Whitespace-separated words; quoted parts (`x="a b"`) stay inside their word. */
function words(args: string): string[] {
  return args.match(/(?:"(?:\\.|[^"\\])*"|'[^']*'|[^\s"']+)+/g) ?? [];
}
