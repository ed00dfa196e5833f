/**
 * The rules an extension's output must follow (shared/spec/extensions.md 3): the shape of build.Dockerfile
 * and run.Dockerfile, the reserved args of extend-config.toml, and the context dirs. The lifecycle checks
 * them at generate time, the platform again before it applies anything. Each broken rule is an
 * ExtensionRuleError naming the file and the rule; instructions outside the recommended set are warnings.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CnbpError, formatProblem } from "../errors.js";
import { InvalidReferenceError, parseReference } from "../image/reference.js";
import { parseSpec } from "../spec/file-kind.js";
import { type ExtendConfig, extendConfigToml } from "../spec/kinds/extend-config-toml.js";
import {
  argNames,
  DockerfileSyntaxError,
  fromImage,
  type Instruction,
  parseDockerfile,
} from "./dockerfile.js";

/** An extension's output breaks a rule of the spec; the message names the file, the hints what to do. */
export class ExtensionRuleError extends CnbpError {
  constructor(message: string, hints: readonly string[] = []) {
    super("CNBP_EXTENSION_INVALID", message, { hints });
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
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal Dockerfile text, not a template
const RESET_USER = "USER ${user_id}:${group_id}";

/** Checks build.Dockerfile: one stage, exactly `ARG base_image` before it, `FROM ${base_image}`. */
export function checkBuildDockerfile(text: string, file: string, warn: (message: string) => void): void {
  const { preamble, from } = singleStage(text, file, warn);
  const args = preamble.flatMap((arg) => argNames(arg).map((name) => ({ name, line: arg.line })));
  const [only] = args;
  if (args.length !== 1 || only?.name !== "base_image") {
    const found = args.length === 0 ? "none" : args.map((a) => `${a.name} on line ${a.line}`).join(", ");
    throw new ExtensionRuleError(
      `${file}: exactly one ARG must come before FROM, and it must be base_image (found: ${found})`,
      [`start the file with the two lines ARG base_image and FROM ${BASE_IMAGE}`],
    );
  }
  const image = fromImage(from);
  if (image !== BASE_IMAGE) {
    throw new ExtensionRuleError(
      `${file}: line ${from.line}: the build image can only be extended: FROM must be FROM ${BASE_IMAGE}, found FROM ${image}`,
      [`write FROM ${BASE_IMAGE}; only a run.Dockerfile can switch to another image`],
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
    throw new ExtensionRuleError(
      `${file}: line ${from.line}: FROM must be FROM ${BASE_IMAGE} (extend the run image) or FROM <image reference> (switch to that image): ${err.message}`,
      [
        `write the variable as ${BASE_IMAGE}, or name the run image to switch to, e.g. FROM registry.example/run:tag`,
      ],
    );
  }
  return { switchTo: image, extend };
}

/** The last `USER` of a Dockerfile, as written (variables unexpanded), and its line. */
export function lastUser(text: string): { readonly user: string; readonly line: number } | undefined {
  const user = parseDockerfile(text).findLast((i) => i.keyword === "USER");
  return user && { user: user.args, line: user.line };
}

/** Whether an image config `User` (or a `USER` argument) names root: `0` or `root`, with any group. */
export function isRootUser(user: string): boolean {
  const name = user.split(":")[0];
  return name === "0" || name === "root";
}

/** How to leave the run image's user as it was, for messages. */
export const RESET_USER_HINT = `end the run.Dockerfile with ${RESET_USER} (the user the run image had), or add a later extension whose run.Dockerfile does`;

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
    if (err instanceof DockerfileSyntaxError) {
      throw new ExtensionRuleError(`${file}: ${err.message}`, [
        "fix the Dockerfile at that line (docker build would refuse it too)",
      ]);
    }
    throw err;
  }
  const froms = instructions.filter((i) => i.keyword === "FROM");
  const [from] = froms;
  if (!from) {
    throw new ExtensionRuleError(`${file}: has no FROM: exactly one stage is required`, [
      `add FROM ${BASE_IMAGE} after the ARGs`,
    ]);
  }
  if (froms.length > 1) {
    const lines = froms.map((f) => f.line).join(", ");
    throw new ExtensionRuleError(
      `${file}: has ${froms.length} FROM instructions (lines ${lines}): multi-stage builds are not permitted`,
      ["build what the other stages make elsewhere and COPY the result from the extension's context"],
    );
  }
  const start = instructions.indexOf(from);
  const preamble = instructions.slice(0, start);
  for (const i of preamble) {
    if (i.keyword !== "ARG") {
      throw new ExtensionRuleError(
        `${file}: line ${i.line}: ${i.keyword} before FROM (only ARG may come first)`,
        [`move the ${i.keyword} after FROM`],
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

/**
 * Reads extend-config.toml when there is one (undefined when not): valid TOML of the right shape, no
 * reserved arg names. `file` names it in messages.
 */
export async function checkExtendConfig(
  path: string,
  warn: (message: string) => void,
  file = path,
): Promise<ExtendConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = parseSpec(extendConfigToml, text, file);
  for (const problem of parsed.problems.filter((p) => p.severity === "warning")) warn(formatProblem(problem));
  if (!parsed.ok) {
    const error = parsed.problems.find((p) => p.severity === "error") ?? parsed.problems[0];
    throw new ExtensionRuleError(error ? formatProblem(error) : `${file}: invalid`, [
      "extend-config.toml holds [[build.args]] and [[run.args]] tables of name and value strings; build_id, user_id and group_id are set by the platform",
    ]);
  }
  return parsed.value;
}

/**
 * `context/` serves both images, so it cannot come with `context.build/` or `context.run/`. Returns the ones
 * present. `label` names the dir in messages.
 */
export async function checkContexts(outputDir: string, label = outputDir): Promise<string[]> {
  const present: string[] = [];
  for (const name of ["context", "context.build", "context.run"]) {
    if (await isDirectory(join(outputDir, name))) present.push(name);
  }
  if (present.includes("context") && present.length > 1) {
    const specific = present.filter((name) => name !== "context").map((name) => `${name}/`);
    throw new ExtensionRuleError(
      `${label}: context/ (shared by both images) cannot be combined with ${specific.join(" and ")}`,
      ["put the files both Dockerfiles need in each of context.build/ and context.run/, and remove context/"],
    );
  }
  return present;
}

export const isDirectory = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
