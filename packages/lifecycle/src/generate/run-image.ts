/**
 * Which run image the build ends up with (shared/spec/extensions.md 4). The run.Dockerfiles are walked
 * from the last extension back: the last one that switches (`FROM <image>`) gives the new run image, and
 * those before it are ignored, since they would apply to an image that is thrown away. The run image is
 * extended when a run.Dockerfile that is not ignored has instructions.
 */
import type { AnalyzedMetadata, RunDockerfileIntent, RunFile } from "@cnbp/core";
import { apiAtLeast } from "@cnbp/core";
import type { Log } from "../log.js";

export interface RunImageChoice {
  /** The image the last switching run.Dockerfile names; undefined when none switches. */
  readonly switchTo?: string;
  readonly extend: boolean;
  /** Indexes (into the list given) of the run.Dockerfiles made moot by a later switch. */
  readonly ignored: ReadonlySet<number>;
}

export function chooseRunImage(dockerfiles: readonly RunDockerfileIntent[]): RunImageChoice {
  let switchTo: string | undefined;
  let extend = false;
  const ignored = new Set<number>();
  for (let i = dockerfiles.length - 1; i >= 0; i--) {
    const dockerfile = dockerfiles[i];
    if (!dockerfile) continue;
    if (switchTo !== undefined) {
      ignored.add(i);
      continue;
    }
    if (dockerfile.extend) extend = true;
    if (dockerfile.switchTo !== undefined) switchTo = dockerfile.switchTo;
  }
  return { ...(switchTo !== undefined ? { switchTo } : {}), extend, ignored };
}

/**
 * analyzed.toml after generate. A switch to an image other than the current one replaces `[run-image]`
 * (reference = image = the new one, target cleared: the restorer looks it up); `extend` is set when the run
 * image is extended; `[build-image] extend` when any extension wrote a build.Dockerfile (the reference
 * stays empty until the restorer's `-build-image` fills it).
 */
export function updateAnalyzed(
  analyzed: AnalyzedMetadata,
  choice: RunImageChoice,
  extendBuildImage: boolean,
  platformApi: string,
  runToml: RunFile | undefined,
  log: Log,
): AnalyzedMetadata {
  const out: AnalyzedMetadata = { ...analyzed };
  const current = analyzed["run-image"];
  // before Platform 0.12 analyzed.toml has no run-image.image to compare with
  const isNew = apiAtLeast(platformApi, "0.12") ? choice.switchTo !== current?.image : true;
  if (choice.switchTo !== undefined && isNew) {
    if (!listed(runToml, choice.switchTo)) {
      log.warn(`extensions switched the run image to ${choice.switchTo}, which run.toml does not list`);
    }
    out["run-image"] = { reference: choice.switchTo, image: choice.switchTo };
  }
  const runImage = out["run-image"];
  if (choice.extend && runImage) out["run-image"] = { ...runImage, extend: true };
  if (extendBuildImage) out["build-image"] = { reference: "", ...analyzed["build-image"], extend: true };
  return out;
}

/** Whether run.toml names the image, as an image or a mirror. */
function listed(runToml: RunFile | undefined, image: string): boolean {
  return (runToml?.images ?? []).some((entry) => entry.image === image || entry.mirrors?.includes(image));
}
