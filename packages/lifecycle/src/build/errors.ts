/**
 * Build errors name the buildpack first, then the file and the rule broken, as users of pack read them:
 * `buildpack example/node@1.0.0: /layers/example_node/launch.toml: ...`. The phase adds its own name in front.
 */
import { formatProblem, type Problem } from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";

export interface BuildpackRef {
  readonly id: string;
  readonly version: string;
}

export const buildpackName = (bp: BuildpackRef) => `${bp.id}@${bp.version}`;

/** Something a buildpack did wrong (exit 52), or its bin/build failing (exit 51). */
export function buildpackError(
  bp: BuildpackRef,
  message: string,
  code: number = ExitCode.build,
): LifecycleError {
  return new LifecycleError(code, `buildpack ${buildpackName(bp)}: ${message}`);
}

/** The errors of a file that failed validation, each as `file:line: field rule`. */
export function problemsText(problems: readonly Problem[]): string {
  return problems
    .filter((p) => p.severity === "error")
    .map(formatProblem)
    .join("; ");
}

/** A validation warning as one log line, without the "warning:" tag the log adds itself. */
export const warningText = (bp: BuildpackRef, p: Problem) =>
  `buildpack ${buildpackName(bp)}: ${formatProblem({ ...p, severity: "error" })}`;
