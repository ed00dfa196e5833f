/**
 * Exit codes of the Platform API (shared/spec/platform.md section 5). Where the spec gives a range, the value
 * is the one the Go lifecycle uses, which platforms in the wild check for.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  invalidArgs: 3,
  incompatiblePlatformApi: 11,
  incompatibleBuildpackApi: 12,
  detectFailedCleanly: 20,
  detectFailedWithErrors: 21,
  detect: 22,
  analyze: 32,
  restore: 42,
  buildpackBuildFailed: 51,
  build: 52,
  export: 62,
  rebase: 72,
  launch: 82,
  generateFailed: 91,
  generate: 92,
  extend: 102,
} as const;

/** A lifecycle failure and the exit code the Platform API gives it. */
export class LifecycleError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "LifecycleError";
  }
}
