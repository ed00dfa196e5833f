/** The launcher's check of the buildpacks that metadata.toml names. */
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { buildpackApiSupported, SUPPORTED_BUILDPACK_APIS } from "../platform/api.js";

/** A buildpack of metadata.toml whose API this launcher does not speak: exit code 12, as Go's launcher. */
export function checkBuildpackApi(id: string, api: string): void {
  if (buildpackApiSupported(api)) return;
  throw new LifecycleError(
    ExitCode.incompatibleBuildpackApi,
    `buildpack ${id}: Buildpack API "${api}" is not supported by this lifecycle (it supports ${SUPPORTED_BUILDPACK_APIS.join(", ")})`,
  );
}
