/**
 * The API versions the launcher checks. The supported lists are the lifecycle's (src/platform/api.ts), kept
 * here because importing that module would bundle all of @cnbp/core into the launcher (650 kB against 15 kB);
 * a unit test keeps the two equal.
 */
import { ExitCode, LifecycleError } from "../exit-codes.js";

export const LAUNCHER_PLATFORM_APIS = ["0.12", "0.13", "0.14", "0.15"] as const;
export const LAUNCHER_BUILDPACK_APIS = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"] as const;

const API = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

/** Whether `version` (`<major>.<minor>`) is at least `min`; false when it is not an API version at all. */
export function apiAtLeast(version: string, min: string): boolean {
  const [a, b] = [API.exec(version), API.exec(min)];
  if (!a || !b) return false;
  const [major, minor] = [Number(a[1]), Number(a[2] ?? 0)];
  const [minMajor, minMinor] = [Number(b[1]), Number(b[2] ?? 0)];
  return major !== minMajor ? major > minMajor : minor >= minMinor;
}

const supports = (list: readonly string[], version: string) =>
  list.some((v) => apiAtLeast(version, v) && apiAtLeast(v, version));

/** CNB_PLATFORM_API, which the exporter writes into the image's env: unset or unsupported is exit code 11. */
export function launcherPlatformApi(env: Readonly<Record<string, string | undefined>>): string {
  const api = env.CNB_PLATFORM_API;
  const supported = LAUNCHER_PLATFORM_APIS.join(", ");
  if (!api) {
    throw new LifecycleError(
      ExitCode.incompatiblePlatformApi,
      `CNB_PLATFORM_API is not set: the platform must set it to one of ${supported}`,
    );
  }
  if (!supports(LAUNCHER_PLATFORM_APIS, api)) {
    throw new LifecycleError(
      ExitCode.incompatiblePlatformApi,
      `Platform API "${api}" is not supported by this lifecycle (it supports ${supported})`,
    );
  }
  return api;
}

/** A buildpack of metadata.toml whose API this launcher does not speak: exit code 12, as Go's launcher. */
export function checkBuildpackApi(id: string, api: string): void {
  if (supports(LAUNCHER_BUILDPACK_APIS, api)) return;
  throw new LifecycleError(
    ExitCode.incompatibleBuildpackApi,
    `buildpack ${id}: Buildpack API "${api}" is not supported by this lifecycle (it supports ${LAUNCHER_BUILDPACK_APIS.join(", ")})`,
  );
}
