/**
 * What the extensions generated (shared/spec/extensions.md 5, 6), read from `<generated>` once it is copied
 * out of the layers volume: each extension's build and run Dockerfile in group order, with its build args and
 * build context, every one checked against the spec's rules before anything is built.
 *
 * Platform >= 0.13: `<generated>/<escaped id>/{build,run}.Dockerfile`, `extend-config.toml` beside them,
 * the context `context.<kind>/`, else `context/`, else the app dir.
 * Platform < 0.13: `<generated>/<kind>/<escaped id>/Dockerfile` with its own extend-config.toml; the
 * context is the app dir.
 * A run.Dockerfile renamed `.ignore` (made moot by a later switch) is left out.
 */
import { readFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { escapeId } from "../authoring/module-layer.js";
import { CnbpError } from "../errors.js";
import { apiAtLeast } from "../spec/api-version.js";
import type { GroupFile } from "../spec/kinds/group-toml.js";
import {
  checkBuildDockerfile,
  checkContexts,
  checkExtendConfig,
  checkRunDockerfile,
  type DockerfileKind,
  ExtensionRuleError,
  isRootUser,
  lastUser,
  RESET_USER_HINT,
  type RunDockerfileIntent,
} from "./rules.js";

export interface ExtensionDockerfile {
  /** The extension's id as group.toml has it (not escaped). */
  readonly extensionId: string;
  readonly kind: DockerfileKind;
  /** Absolute host path of the Dockerfile. */
  readonly dockerfile: string;
  /** Absolute host path of the build context. */
  readonly context: string;
  /** extend-config.toml's `[[build.args]]` or `[[run.args]]`, in file order. */
  readonly args: readonly { readonly name: string; readonly value: string }[];
  /** Run only: the image a `FROM <image>` switches to (absent for `FROM ${base_image}`). */
  readonly switchTo?: string;
  /** Build: always; run: instructions follow FROM. */
  readonly extend: boolean;
}

export interface GeneratedPlan {
  readonly build: readonly ExtensionDockerfile[];
  /** Every run.Dockerfile not ignored: a switching one (if any) first, as the walk of the spec leaves them. */
  readonly run: readonly ExtensionDockerfile[];
}

export interface ReadGeneratedOptions {
  /** `<generated>`, copied to a host dir. */
  readonly generatedDir: string;
  /** The detector's group.toml: `[[group-extensions]]` gives the order. */
  readonly group: GroupFile;
  readonly platformApi: string;
  readonly appDir: string;
  /** Told about instructions outside the recommended set and a build image left running as root. */
  readonly warn?: (message: string) => void;
}

/** A checked Dockerfile with its text, for the checks across the chain. */
interface Checked {
  readonly step: ExtensionDockerfile;
  readonly label: string;
  readonly text: string;
}

export async function readGenerated(opts: ReadGeneratedOptions): Promise<GeneratedPlan> {
  const generatedDir = resolve(opts.generatedDir);
  const appDir = resolve(opts.appDir);
  const warn = opts.warn ?? (() => {});
  const build: Checked[] = [];
  const run: Checked[] = [];
  for (const { id } of opts.group["group-extensions"] ?? []) {
    const where = whereFiles(generatedDir, id, opts.platformApi);
    const told = (message: string) => warn(`extension ${id}: ${message}`);
    await ofExtension(id, async () => {
      const contexts = where.contextRoot
        ? await checkContexts(where.contextRoot, label(generatedDir, where.contextRoot))
        : [];
      const contextOf = (kind: DockerfileKind) => {
        const name = [`context.${kind}`, "context"].find((n) => contexts.includes(n));
        return where.contextRoot && name ? join(where.contextRoot, name) : appDir;
      };
      for (const kind of ["build", "run"] as const) {
        const dockerfile = where.dockerfile(kind);
        const text = await readIfPresent(dockerfile);
        if (text === undefined) continue;
        const file = label(generatedDir, dockerfile);
        const configPath = where.extendConfig(kind);
        const config = await checkExtendConfig(configPath, told, label(generatedDir, configPath));
        const step: ExtensionDockerfile = {
          extensionId: id,
          kind,
          dockerfile,
          context: contextOf(kind),
          args: (config?.[kind]?.args ?? []).map(({ name, value }) => ({ name, value })),
          ...checkDockerfile(kind, text, file, told),
        };
        (kind === "build" ? build : run).push({ step, label: file, text });
      }
    });
  }
  checkSwitches(run);
  checkFinalUser(run, "run", warn);
  checkFinalUser(build, "build", warn);
  return { build: build.map((c) => c.step), run: run.map((c) => c.step) };
}

function checkDockerfile(
  kind: DockerfileKind,
  text: string,
  file: string,
  warn: (message: string) => void,
): RunDockerfileIntent {
  if (kind === "run") return checkRunDockerfile(text, file, warn);
  checkBuildDockerfile(text, file, warn);
  return { extend: true };
}

/** Where an extension's files are for the Platform API. */
function whereFiles(generatedDir: string, id: string, platformApi: string) {
  const escaped = escapeId(id);
  if (apiAtLeast(platformApi, "0.13")) {
    const root = join(generatedDir, escaped);
    return {
      dockerfile: (kind: DockerfileKind) => join(root, `${kind}.Dockerfile`),
      extendConfig: (_kind: DockerfileKind) => join(root, "extend-config.toml"),
      contextRoot: root as string | undefined,
    };
  }
  return {
    dockerfile: (kind: DockerfileKind) => join(generatedDir, kind, escaped, "Dockerfile"),
    extendConfig: (kind: DockerfileKind) => join(generatedDir, kind, escaped, "extend-config.toml"),
    contextRoot: undefined,
  };
}

/**
 * Only the last switching run.Dockerfile counts; the generate step renames those before it `.ignore`. One
 * that is still there means `<generated>` is not what generate left.
 */
function checkSwitches(run: readonly Checked[]): void {
  const [first] = run;
  const late = run.find((c, i) => i > 0 && c.step.switchTo !== undefined);
  if (!first || !late) return;
  throw new CnbpError(
    "CNBP_EXTENSION_INVALID",
    `extension ${late.step.extensionId}: ${late.label}: switches the run image to ${late.step.switchTo}, but the run.Dockerfile of extension ${first.step.extensionId} before it (${first.label}) is not ignored: it would apply to an image thrown away`,
    {
      hints: [
        "run the detector again: its generate step renames the run.Dockerfiles before a switch to run.Dockerfile.ignore",
      ],
    },
  );
}

/**
 * The user the chain leaves: a run image must not end as root (the extender refuses it too); a build image
 * may (the builder runs as the build user), with a warning as the Go lifecycle gives.
 */
function checkFinalUser(
  chain: readonly Checked[],
  kind: DockerfileKind,
  warn: (message: string) => void,
): void {
  for (const checked of [...chain].reverse()) {
    const user = lastUser(checked.text);
    if (!user) continue;
    if (!isRootUser(user.user)) return;
    const message = `extension ${checked.step.extensionId}: ${checked.label}: line ${user.line}: USER ${user.user} leaves the ${kind} image running as root, and no later ${kind}.Dockerfile sets another user`;
    if (kind === "run") throw new CnbpError("CNBP_EXTENSION_INVALID", message, { hints: [RESET_USER_HINT] });
    warn(message);
    return;
  }
}

/** Names a rule broken in an extension's files with the extension's id. */
async function ofExtension(id: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (!(err instanceof ExtensionRuleError)) throw err;
    throw new CnbpError("CNBP_EXTENSION_INVALID", `extension ${id}: ${err.message}`, {
      hints: err.hints,
      cause: err,
    });
  }
}

/** `generated/<path inside it>`, as messages name the files. */
function label(generatedDir: string, path: string): string {
  return ["generated", ...relative(generatedDir, path).split(sep)].join("/");
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
