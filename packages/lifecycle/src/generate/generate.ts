/**
 * Generate (shared/spec/extensions.md 3-5, platform.md 4.2): after the detector has chosen a group with
 * extensions, each extension in group order gets the plan entries it provides and writes Dockerfiles; they
 * are checked, laid out in `<generated>` for the extender (or the platform), the run image is chosen, and
 * analyzed.toml and plan.toml are rewritten: the plan without what extensions satisfied, `[run-image]` with
 * the image an extension switched to and `extend`.
 *
 * `[build-image] extend = true` is written when any extension wrote a build.Dockerfile, as the spec asks
 * (the Go lifecycle does not; platforms look for build Dockerfiles in `<generated>`, which are there too).
 * With no `[build-image]` yet its reference is "" until the restorer's `-build-image` fills it.
 *
 * Errors: bin/generate that cannot run or exits non-zero -> ExitCode.generateFailed (91); an output that
 * breaks a rule or cannot be read, or `<generated>` that cannot be written -> ExitCode.generate (92). Each
 * message names the extension (id@version), the file and the rule.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AnalyzedMetadata,
  analyzedToml,
  apiAtLeast,
  type BuildpackPlan,
  buildpackPlan,
  checkBuildDockerfile,
  checkContexts,
  checkExtendConfig,
  checkRunDockerfile,
  type PlanFile,
  planToml,
  type RunDockerfileIntent,
  type RunFile,
  serializeSpec,
} from "@cnbp/core";
import type { BaseTarget } from "../detect/targets.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import { notExecutable } from "../modules/run.js";
import { type Module, moduleRef } from "../modules/store.js";
import type { Env } from "../platform/inputs.js";
import { type BuildUser, type OutputLayout, openLayout, type ProducedDockerfile } from "./layout.js";
import { extensionPlan, withoutNames } from "./plan.js";
import { generatePath, runGenerate } from "./run-generate.js";
import { chooseRunImage, updateAnalyzed } from "./run-image.js";

export interface GenerateInput {
  /** The group's extensions, in group order. */
  readonly extensions: readonly Module[];
  /** The resolved plan, as the detector wrote it to plan.toml. */
  readonly plan: PlanFile;
  readonly platformApi: string;
  readonly paths: {
    readonly appDir: string;
    readonly platformDir: string;
    readonly buildConfigDir: string;
    readonly generatedDir: string;
    readonly analyzedPath: string;
    readonly planPath: string;
  };
  /** The build user bin/generate runs as (when the lifecycle is root). */
  readonly user: BuildUser;
  /** analyzed.toml as read by the detector. */
  readonly analyzed: AnalyzedMetadata | undefined;
  /** run.toml, to warn when an extension switches to an image it does not list. */
  readonly runToml: RunFile | undefined;
  /** CNB_TARGET_* values, as the detector gave them to bin/detect. */
  readonly target: BaseTarget;
  /** CNB_EXEC_ENV (inputs.execEnv). */
  readonly execEnv: string;
  /** The lifecycle's environment (filtered before it reaches an extension). */
  readonly env: Env;
  readonly log: Log;
}

export interface GenerateResult {
  /** What was written to plan.toml. */
  readonly plan: PlanFile;
  /** What was written to analyzed.toml. */
  readonly analyzed: AnalyzedMetadata;
}

interface ExtensionOutputs {
  readonly build?: ProducedDockerfile;
  readonly run?: { readonly dockerfile: ProducedDockerfile; readonly intent: RunDockerfileIntent };
}

export async function generate(input: GenerateInput): Promise<GenerateResult> {
  const { log, paths } = input;
  const layout = await openLayout(input.platformApi, paths.generatedDir, input.user);
  try {
    let plan = input.plan;
    const builds: ProducedDockerfile[] = [];
    const runs: { dockerfile: ProducedDockerfile; intent: RunDockerfileIntent }[] = [];
    for (const extension of input.extensions) {
      log.debug(`Running generate for extension ${moduleRef(extension)}`);
      const given = extensionPlan(plan, extension.id);
      const outputs = await generateOne(extension, given, input, layout);
      if (outputs.build) builds.push(outputs.build);
      if (outputs.run) runs.push(outputs.run);
      plan = withoutNames(plan, new Set((given.entries ?? []).map((entry) => entry.name)));
    }

    const choice = chooseRunImage(runs.map((run) => run.intent));
    if (choice.switchTo !== undefined) log.debug(`Extensions switched the run image to ${choice.switchTo}`);
    const analyzed = updateAnalyzed(
      input.analyzed ?? {},
      choice,
      builds.length > 0,
      input.platformApi,
      input.runToml,
      log,
    );
    await writeOrFail(async () => {
      for (const [i, run] of runs.entries()) await layout.place(run.dockerfile, choice.ignored.has(i));
      for (const build of builds) await layout.place(build, false);
    }, `writing ${paths.generatedDir}`);
    await writeOrFail(
      () => writeFile(paths.analyzedPath, serializeSpec(analyzedToml, analyzed)),
      `writing ${paths.analyzedPath}`,
    );
    await writeOrFail(
      () => writeFile(paths.planPath, serializeSpec(planToml, plan)),
      `writing ${paths.planPath}`,
    );
    return { plan, analyzed };
  } finally {
    await layout.dispose();
  }
}

/** Runs one extension (or takes its pre-populated outputs) and checks what it wrote. */
async function generateOne(
  extension: Module,
  given: BuildpackPlan,
  input: GenerateInput,
  layout: OutputLayout,
): Promise<ExtensionOutputs> {
  const who = `extension ${moduleRef(extension)}`;
  const outputDir = await layout.outputDir(extension);
  const planPath = await layout.planPath(extension);
  await writeFile(planPath, serializeSpec(buildpackPlan, given));

  const bin = generatePath(extension);
  const hasGenerate = await exists(bin);
  if (hasGenerate) {
    const why = await notExecutable(bin);
    if (why) throw new LifecycleError(ExitCode.generateFailed, `${who}: ${why}`);
    const exitCode = await runGenerate(extension, outputDir, planPath, {
      appDir: input.paths.appDir,
      platformDir: input.paths.platformDir,
      buildConfigDir: input.paths.buildConfigDir,
      user: input.user,
      target: input.target,
      execEnv: input.execEnv,
      lifecycleEnv: input.env,
    }).catch((err: Error) => {
      throw new LifecycleError(ExitCode.generateFailed, `${who}: cannot run ${bin}: ${err.message}`, {
        cause: err,
      });
    });
    if (exitCode !== 0) {
      throw new LifecycleError(ExitCode.generateFailed, `${who}: ${bin} exited with code ${exitCode}`);
    }
  }

  try {
    const readFrom = hasGenerate
      ? outputDir
      : await layout.prepopulated(extension, join(extension.dir, "generate"), outputDir);
    return await readOutputs(extension, readFrom, input);
  } catch (err) {
    throw new LifecycleError(ExitCode.generate, `${who}: ${(err as Error).message}`, { cause: err });
  }
}

async function readOutputs(extension: Module, dir: string, input: GenerateInput): Promise<ExtensionOutputs> {
  const warn = (message: string) => input.log.warn(`extension ${moduleRef(extension)}: ${message}`);
  await checkExtendConfig(join(dir, "extend-config.toml"), warn);
  const contexts = await checkContexts(dir);
  if (contexts.length > 0 && !apiAtLeast(input.platformApi, "0.13")) {
    warn(
      `${contexts.join("/, ")}/ ignored: Platform API ${input.platformApi} builds with <app> as the context`,
    );
  }
  const outputs: { build?: ProducedDockerfile; run?: ExtensionOutputs["run"] } = {};
  const runText = await readIfPresent(join(dir, "run.Dockerfile"));
  if (runText !== undefined) {
    const path = join(dir, "run.Dockerfile");
    outputs.run = {
      dockerfile: { extension, kind: "run", path },
      intent: checkRunDockerfile(runText, path, warn),
    };
  }
  const buildText = await readIfPresent(join(dir, "build.Dockerfile"));
  if (buildText !== undefined) {
    const path = join(dir, "build.Dockerfile");
    checkBuildDockerfile(buildText, path, warn);
    outputs.build = { extension, kind: "build", path };
  }
  return outputs;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw err;
    },
  );

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** A file the lifecycle itself cannot write is a generate error (92), not a crash. */
async function writeOrFail(write: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await write();
  } catch (err) {
    throw new LifecycleError(ExitCode.generate, `generate: ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
