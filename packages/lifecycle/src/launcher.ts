/**
 * The launcher's entry point, bundled on its own into `/cnb/lifecycle/launcher` so that app images carry only
 * it: `/cnb/process/<type> [args...]` or `/cnb/lifecycle/launcher [--] <command> [args...]`. It replaces itself
 * with the app (`execve`), which so keeps the launcher's pid (1 in a container) and gets signals directly.
 */
import { ExitCode, LifecycleError } from "./exit-codes.js";
import type { ExecPlan } from "./launch/exec.js";
import { planLaunch } from "./launch/launch.js";
import { createLog } from "./log.js";

type Execve = (file: string, args: readonly string[], env: Readonly<Record<string, string>>) => never;

function exec(plan: ExecPlan): never {
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (!execve) {
    throw new LifecycleError(
      ExitCode.launch,
      `the launcher needs Node 22.15 or newer (process.execve), not ${process.version}`,
    );
  }
  // Node ignores SIGPIPE and SIGXFSZ, and ignored signals stay ignored across execve; caught ones are reset
  for (const signal of ["SIGPIPE", "SIGXFSZ"] as const) process.on(signal, () => {});
  process.chdir(plan.cwd);
  return execve(plan.file, plan.argv, plan.env);
}

const log = createLog(process.env.CNB_LOG_LEVEL ?? "info");
try {
  exec(await planLaunch(process.argv[1] ?? "launcher", process.argv.slice(2), process.env, log));
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  process.exitCode = err instanceof LifecycleError ? err.exitCode : ExitCode.launch;
}
