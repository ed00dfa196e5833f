/**
 * The Platform and Buildpack APIs this lifecycle speaks, and the checks made on them. This module imports
 * nothing from @cnbp/core on purpose: the launcher's bundle includes it, and core would add 650 kB to it.
 */
import { ExitCode, LifecycleError } from "../exit-codes.js";

export const SUPPORTED_PLATFORM_APIS = ["0.12", "0.13", "0.14", "0.15"] as const;
export const SUPPORTED_BUILDPACK_APIS = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"] as const;

const API = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

/** Whether `version` (`<major>.<minor>`) is at least `min`; false when either is not an API version. */
export function apiAtLeast(version: string, min: string): boolean {
  const [a, b] = [API.exec(version), API.exec(min)];
  if (!a || !b) return false;
  const [major, minor] = [Number(a[1]), Number(a[2] ?? 0)];
  const [minMajor, minMinor] = [Number(b[1]), Number(b[2] ?? 0)];
  return major !== minMajor ? major > minMajor : minor >= minMinor;
}

/** Whether `version` is one of the listed API versions. */
export const apiListed = (list: readonly string[], version: string) =>
  list.some((v) => apiAtLeast(version, v) && apiAtLeast(v, version));

/** Whether this lifecycle runs modules of that Buildpack API. */
export const buildpackApiSupported = (api: string) => apiListed(SUPPORTED_BUILDPACK_APIS, api);

/** CNB_PLATFORM_API, which has no default: unset or unsupported ends the phase with exit code 11. */
export function requirePlatformApi(env: Readonly<Record<string, string | undefined>>): string {
  const api = env.CNB_PLATFORM_API;
  const supported = SUPPORTED_PLATFORM_APIS.join(", ");
  if (!api) {
    throw new LifecycleError(
      ExitCode.incompatiblePlatformApi,
      `CNB_PLATFORM_API is not set: the platform must set it to one of ${supported}`,
    );
  }
  if (!apiListed(SUPPORTED_PLATFORM_APIS, api)) {
    throw new LifecycleError(
      ExitCode.incompatiblePlatformApi,
      `Platform API "${api}" is not supported by this lifecycle (it supports ${supported})`,
    );
  }
  return api;
}
