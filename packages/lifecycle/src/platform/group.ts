/**
 * group.toml as the phases after detection read it: every buildpack's Buildpack API one this lifecycle runs
 * (else exit 12, as the Go lifecycle does) and its id usable as a directory name under <layers>.
 */
import { type GroupFile, groupToml, readSpecFile } from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { buildpackApiSupported, SUPPORTED_BUILDPACK_APIS } from "./api.js";

/** Reads the group for `phase`; a problem is a LifecycleError with `errorCode` (or 12 for an API). */
export async function readGroup(phase: string, path: string, errorCode: number): Promise<GroupFile> {
  let group: GroupFile;
  try {
    group = await readSpecFile(groupToml, path);
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? `${path} does not exist` : (err as Error).message;
    throw new LifecycleError(errorCode, `${phase}: reading the group: ${why}`);
  }
  for (const bp of group.group) {
    const dir = bp.id.replaceAll("/", "_");
    if (dir === "." || dir === "..") {
      throw new LifecycleError(
        errorCode,
        `${phase}: reading the group: buildpack id ${JSON.stringify(bp.id)} cannot name its layers directory`,
      );
    }
    if (!buildpackApiSupported(bp.api)) {
      throw new LifecycleError(
        ExitCode.incompatibleBuildpackApi,
        `${phase}: buildpack ${bp.id}@${bp.version} uses Buildpack API ${bp.api} (api in ${path}), which this lifecycle does not support (it supports ${SUPPORTED_BUILDPACK_APIS.join(", ")})`,
      );
    }
  }
  return group;
}
