/** The Platform APIs this lifecycle speaks, and the check every phase makes first. */
import { apiSupported, isApiVersion } from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";

export const SUPPORTED_PLATFORM_APIS = ["0.12", "0.13", "0.14", "0.15"] as const;
export const SUPPORTED_BUILDPACK_APIS = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"] as const;

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
  if (!isApiVersion(api) || !apiSupported(api, SUPPORTED_PLATFORM_APIS)) {
    throw new LifecycleError(
      ExitCode.incompatiblePlatformApi,
      `Platform API "${api}" is not supported by this lifecycle (it supports ${supported})`,
    );
  }
  return api;
}
