/**
 * One module's detection (shared/spec/buildpack.md 2, extensions.md 2): `bin/detect` run with the platform
 * dir and a fresh empty plan file as arguments, in the app dir, as the build user, with the module environment
 * (6.1) and the CNB_* variables of its Buildpack API; then its build plan read and checked. An extension
 * without `bin/detect` passes with `<root>/detect/plan.toml` (or an empty plan).
 */
import { chown, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  apiAtLeast,
  type BuildPlan,
  buildPlan,
  checkExtensionPlan,
  formatProblem,
  parseSpec,
} from "@cnbp/core";
import { Environment } from "../env/environment.js";
import { notExecutable, type RunResult, runExecutable } from "../modules/run.js";
import type { Module } from "../modules/store.js";

/** What a detect run gave: its exit code (-1 when it errored without one), output, plan, or why it errored. */
export interface DetectRun {
  readonly code: number;
  readonly output: string;
  readonly plan?: BuildPlan;
  readonly error?: string;
}

export interface DetectInputs {
  readonly appDir: string;
  readonly platformDir: string;
  readonly buildConfigDir: string;
  /** The lifecycle's own environment, before filtering. */
  readonly lifecycleEnv: Readonly<Record<string, string | undefined>>;
  /** CNB_TARGET_* for modules of Buildpack API 0.10 and newer. */
  readonly targetEnv: Readonly<Record<string, string>>;
  readonly execEnv: string;
  /** The build user, when the lifecycle runs as root. */
  readonly user?: { readonly uid: number; readonly gid: number };
}

export const PASS = 0;
export const FAIL = 100;

/** Runs modules' detects with one set of inputs; the environment up to the CNB_* variables is built once. */
export class DetectRunner {
  private readonly baseEnvs = new Map<boolean, Promise<Environment>>();
  private plansDir: Promise<string> | undefined;
  private plans = 0;

  constructor(private readonly inputs: DetectInputs) {}

  async detect(module: Module): Promise<DetectRun> {
    const label = `${module.kind} ${module.id}@${module.version}`;
    try {
      const detectPath = join(module.dir, "bin", "detect");
      if (module.kind === "extension" && !(await exists(detectPath))) {
        return await this.prepopulated(module, label);
      }
      return await this.run(module, label, detectPath);
    } catch (err) {
      return { code: -1, output: "", error: `${label}: ${(err as Error).message}` };
    }
  }

  private async run(module: Module, label: string, detectPath: string): Promise<DetectRun> {
    const planPath = join(await this.planDir(), `${this.plans++}.toml`);
    try {
      await writeFile(planPath, "", { mode: 0o600 });
      const user = this.inputs.user;
      if (user && process.getuid?.() === 0) await chown(planPath, user.uid, user.gid);
      const env = await this.envFor(module, planPath);
      let result: RunResult;
      try {
        result = await runExecutable({
          path: detectPath,
          args: [this.inputs.platformDir, planPath],
          env,
          cwd: this.inputs.appDir,
          ...(user ? { user } : {}),
          output: "collect",
        });
      } catch (err) {
        const why = (await notExecutable(detectPath)) ?? (err as Error).message;
        return { code: -1, output: "", error: `${label}: cannot run bin/detect: ${why}` };
      }
      if (result.exitCode !== PASS) return { code: result.exitCode, output: result.output };
      const checked = checkPlan(module, label, await readFile(planPath, "utf8"), "build plan");
      return { ...checked, output: result.output };
    } finally {
      await rm(planPath, { force: true });
    }
  }

  /** One temp dir per run for the modules' plan files, the build user's when the lifecycle is root. */
  private planDir(): Promise<string> {
    this.plansDir ??= mkdtemp(join(tmpdir(), "plan.")).then(async (dir) => {
      const user = this.inputs.user;
      if (user && process.getuid?.() === 0) await chown(dir, user.uid, user.gid);
      return dir;
    });
    return this.plansDir;
  }

  /** Removes the plan files' dir. */
  async close(): Promise<void> {
    if (this.plansDir) await rm(await this.plansDir, { recursive: true, force: true });
  }

  private async prepopulated(module: Module, label: string): Promise<DetectRun> {
    const planPath = join(module.dir, "detect", "plan.toml");
    let text: string;
    try {
      text = await readFile(planPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { code: PASS, output: "", plan: {} };
      throw err;
    }
    return { ...checkPlan(module, label, text, planPath), output: "" };
  }

  /** 6.1: filtered lifecycle env, user env (unless clear-env), operator env, then the lifecycle's variables. */
  private async envFor(module: Module, planPath: string): Promise<Record<string, string>> {
    const env = new Environment(await this.baseEnv(module.clearEnv));
    const { platformDir, execEnv, targetEnv } = this.inputs;
    env.set(module.kind === "buildpack" ? "CNB_BUILDPACK_DIR" : "CNB_EXTENSION_DIR", module.dir);
    if (apiAtLeast(module.api, "0.8")) {
      env.set("CNB_PLATFORM_DIR", platformDir);
      env.set("CNB_BUILD_PLAN_PATH", planPath);
    }
    if (apiAtLeast(module.api, "0.10")) {
      for (const [name, value] of Object.entries(targetEnv)) env.set(name, value);
    }
    if (apiAtLeast(module.api, "0.12") && execEnv) env.set("CNB_EXEC_ENV", execEnv);
    return env.toRecord();
  }

  private baseEnv(clearEnv: boolean): Promise<Environment> {
    let env = this.baseEnvs.get(clearEnv);
    if (!env) {
      env = (async () => {
        const e = Environment.forModules(this.inputs.lifecycleEnv);
        if (!clearEnv) await e.applyPlatformEnv(this.inputs.platformDir);
        await e.applyEnvDir(join(this.inputs.buildConfigDir, "env"), "default");
        return e;
      })();
      this.baseEnvs.set(clearEnv, env);
    }
    return env;
  }
}

/**
 * A passing module's plan: TOML that parses, no `version` directly in a require, no require at all from an
 * extension. Anything wrong makes the module errored, naming it, the file and the rule.
 */
function checkPlan(module: Module, label: string, text: string, file: string): Omit<DetectRun, "output"> {
  const parsed = parseSpec(buildPlan, text, file);
  const problems = parsed.problems.filter((p) => p.severity === "error");
  if (parsed.ok && module.kind === "extension") {
    problems.push(
      ...checkExtensionPlan(parsed.value).map((f) => ({ ...f, file, severity: "error" as const })),
    );
  }
  if (problems.length > 0 || !parsed.ok) {
    return { code: -1, error: problems.map((p) => `${label}: ${formatProblem(p)}`).join("\n") };
  }
  return { code: PASS, plan: parsed.value };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
