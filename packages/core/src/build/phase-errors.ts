/** A phase container that ended badly, said the way a user can act on (exit codes: platform.md 5). */
import { CnbpError } from "../errors.js";
import type { PhaseName } from "./phases.js";

const MEANING: Record<number, string> = {
  11: "the lifecycle does not support the Platform API cnbp chose",
  12: "a buildpack's API is not supported by the builder's lifecycle",
  20: "no buildpack group passed detection",
  21: "no buildpack group passed detection, and a buildpack's detect failed with an error",
  22: "detection failed",
  32: "analysis failed",
  42: "restoring the cache failed",
  51: "a buildpack's build failed",
  52: "the build failed",
  62: "exporting the image failed",
};

const HINTS: Record<number, string[]> = {
  20: [
    "check that the app directory holds what the builder's buildpacks look for (`cnbp builder inspect` shows their order)",
  ],
  21: ["the buildpack output above says which detect failed"],
  51: ["the buildpack output above says what went wrong"],
  62: ["when publishing, check that you may push to the image's repository"],
};

export function phaseFailed(phase: PhaseName, exitCode: number): CnbpError {
  const why = MEANING[exitCode] ?? `it exited with code ${exitCode}`;
  return new CnbpError(
    "CNBP_PHASE_FAILED",
    `build failed in the ${phase} phase: ${why} (exit code ${exitCode})`,
    {
      hints: HINTS[exitCode] ?? ["the lifecycle's output above says why"],
    },
  );
}
