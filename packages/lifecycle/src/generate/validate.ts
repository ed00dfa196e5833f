/**
 * The rules an extension's output must follow (shared/spec/extensions.md 3): the shape of build.Dockerfile
 * and run.Dockerfile, the reserved args of extend-config.toml, and the context dirs. Each broken rule is a
 * GenerateRuleError naming the file and the rule; instructions outside the recommended set are warnings.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  extendConfigToml,
  formatProblem,
  InvalidReferenceError,
  parseReference,
  parseSpec,
} from "@cnbp/core";
import {
  argNames,
  DockerfileSyntaxError,
  fromImage,
  type Instruction,
  parseDockerfile,
} from "./dockerfile.js";

/** An extension's output breaks a rule of the spec; the message names the file. */
export class GenerateRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GenerateRuleError";
  }
}

export type DockerfileKind = "build" | "run";

/** What a run.Dockerfile asks for: another run image (`FROM <image>`), and/or instructions to apply. */
export interface RunDockerfileIntent {
  readonly switchTo?: string;
  readonly extend: boolean;
}

const RECOMMENDED = ["FROM", "ADD", "ARG", "COPY", "ENV", "LABEL", "RUN", "SHELL", "USER", "WORKDIR"];
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal Dockerfile text, not a template
const BASE_IMAGE = "${base_image}";

/** Checks build.Dockerfile: one stage, exactly `ARG base_image` before it, `FROM ${base_image}`. */
export function checkBuildDockerfile(text: string, file: string, warn: (message: string) => void): void {
  const { preamble, from } = singleStage(text, file, warn);
  const args = preamble.flatMap((arg) => argNames(arg).map((name) => ({ name, line: arg.line })));
  const [only] = args;
  if (args.length !== 1 || only?.name !== "base_image") {
    const found = args.length === 0 ? "none" : args.map((a) => `${a.name} on line ${a.line}`).join(", ");
    throw new GenerateRuleError(
      `${file}: exactly one ARG must come before FROM, and it must be base_image (found: ${found})`,
    );
  }
  const image = fromImage(from);
  if (image !== BASE_IMAGE) {
    throw new GenerateRuleError(
      `${file}: line ${from.line}: the build image can only be extended: FROM must be FROM ${BASE_IMAGE}, found FROM ${image}`,
    );
  }
}

/**
 * Checks run.Dockerfile: one stage; `FROM ${base_image}` extends the run image, `FROM <image>` switches to
 * that image; any instruction after FROM means the image is extended.
 */
export function checkRunDockerfile(
  text: string,
  file: string,
  warn: (message: string) => void,
): RunDockerfileIntent {
  const { from, body } = singleStage(text, file, warn);
  const image = fromImage(from);
  const extend = body.length > 0;
  if (image === BASE_IMAGE) return { extend };
  try {
    parseReference(image);
  } catch (err) {
    if (!(err instanceof InvalidReferenceError)) throw err;
    throw new GenerateRuleError(
      `${file}: line ${from.line}: FROM must be FROM ${BASE_IMAGE} (extend the run image) or FROM <image reference> (switch to that image): ${err.message}`,
    );
  }
  return { switchTo: image, extend };
}

/** The Dockerfile's one stage: the ARGs before FROM, the FROM, and what follows it. */
function singleStage(
  text: string,
  file: string,
  warn: (message: string) => void,
): { preamble: Instruction[]; from: Instruction; body: Instruction[] } {
  let instructions: Instruction[];
  try {
    instructions = parseDockerfile(text);
  } catch (err) {
    if (err instanceof DockerfileSyntaxError) throw new GenerateRuleError(`${file}: ${err.message}`);
    throw err;
  }
  const froms = instructions.filter((i) => i.keyword === "FROM");
  const [from] = froms;
  if (!from) throw new GenerateRuleError(`${file}: has no FROM: exactly one stage is required`);
  if (froms.length > 1) {
    const lines = froms.map((f) => f.line).join(", ");
    throw new GenerateRuleError(
      `${file}: has ${froms.length} FROM instructions (lines ${lines}): multi-stage builds are not permitted`,
    );
  }
  const start = instructions.indexOf(from);
  const preamble = instructions.slice(0, start);
  for (const i of preamble) {
    if (i.keyword !== "ARG") {
      throw new GenerateRuleError(
        `${file}: line ${i.line}: ${i.keyword} before FROM (only ARG may come first)`,
      );
    }
  }
  for (const i of instructions) {
    if (!RECOMMENDED.includes(i.keyword)) {
      warn(
        `${file}: line ${i.line}: ${i.keyword} is not recommended in an extension's Dockerfile (use ${RECOMMENDED.join(", ")})`,
      );
    }
  }
  return { preamble, from, body: instructions.slice(start + 1) };
}

/** Checks extend-config.toml when there is one: valid TOML of the right shape, no reserved arg names. */
export async function checkExtendConfig(path: string, warn: (message: string) => void): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const parsed = parseSpec(extendConfigToml, text, path);
  for (const problem of parsed.problems.filter((p) => p.severity === "warning")) warn(formatProblem(problem));
  const error = parsed.problems.find((p) => p.severity === "error");
  if (error) throw new GenerateRuleError(formatProblem(error));
}

/** `context/` serves both images, so it cannot come with `context.build/` or `context.run/`. Returns the ones present. */
export async function checkContexts(outputDir: string): Promise<string[]> {
  const present: string[] = [];
  for (const name of ["context", "context.build", "context.run"]) {
    if (await isDirectory(join(outputDir, name))) present.push(name);
  }
  if (present.includes("context") && present.length > 1) {
    const specific = present.filter((name) => name !== "context").map((name) => `${name}/`);
    throw new GenerateRuleError(
      `${outputDir}: context/ (shared by both images) cannot be combined with ${specific.join(" and ")}`,
    );
  }
  return present;
}

const isDirectory = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
