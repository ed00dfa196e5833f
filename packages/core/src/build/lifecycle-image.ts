/**
 * `--lifecycle-image`: an image holding `/cnb/lifecycle` in which the phases that get registry credentials
 * run, instead of the builder (as pack does for untrusted builders). Its label `io.buildpacks.lifecycle.apis`
 * (the official lifecycle images carry it) says which Platform APIs it speaks; the build then speaks one that
 * both it and the builder's lifecycle do.
 */
import type { ImageStore } from "../drivers/contract.js";
import { DriverError } from "../drivers/errors.js";
import { CnbpError } from "../errors.js";
import type { ApiSupport } from "../spec/kinds/label-builder-metadata.js";
import type { ResolvedBuilder } from "./builder.js";
import { negotiatePlatformApi } from "./platform-api.js";
import type { Pull } from "./pulls.js";

export const LIFECYCLE_APIS_LABEL = "io.buildpacks.lifecycle.apis";

export interface ResolvedLifecycleImage {
  /** Its id in the store: the phases run exactly it. */
  readonly id: string;
  /** The Platform API of the whole build. */
  readonly platformApi: string;
}

export async function resolveLifecycleImage(
  images: ImageStore,
  ref: string,
  pull: Pull,
  builder: ResolvedBuilder,
): Promise<ResolvedLifecycleImage> {
  let stored: Awaited<ReturnType<ImageStore["pull"]>>;
  try {
    stored = await pull(images, ref);
  } catch (err) {
    if (err instanceof DriverError && err.code === "CNBP_IMAGE_NOT_FOUND")
      throw new CnbpError(
        "CNBP_LIFECYCLE_IMAGE_NOT_FOUND",
        `lifecycle image ${ref} was not found (${err.message})`,
        {
          hints: [
            "check --lifecycle-image: an image holding /cnb/lifecycle, e.g. an official lifecycle image",
          ],
          cause: err,
        },
      );
    throw err;
  }
  if (stored.os !== builder.os || stored.arch !== builder.arch)
    throw new CnbpError(
      "CNBP_LIFECYCLE_IMAGE_TARGET",
      `lifecycle image ${ref} is for ${stored.os}/${stored.arch}, but builder ${builder.name} builds for ${builder.os}/${builder.arch}`,
      { hints: ["choose a lifecycle image for the builder's platform"] },
    );
  const apis = platformApisOf(ref, stored.labels[LIFECYCLE_APIS_LABEL]);
  return {
    id: stored.id,
    platformApi: apis
      ? negotiatePlatformApi(
          `builder ${builder.name} and lifecycle image ${ref}`,
          builder.info.lifecycle.platformApis,
          apis,
        )
      : builder.platformApi,
  };
}

/** The label's `platform` APIs; undefined without the label (the builder's choice then stands). */
function platformApisOf(ref: string, label: string | undefined): ApiSupport | undefined {
  if (label === undefined) return undefined;
  try {
    const platform = (JSON.parse(label) as { platform?: Partial<ApiSupport> }).platform;
    if (Array.isArray(platform?.supported))
      return {
        supported: platform.supported.map(String),
        deprecated: (platform.deprecated ?? []).map(String),
      };
  } catch {
    // reported below
  }
  throw new CnbpError(
    "CNBP_LIFECYCLE_IMAGE_INVALID",
    `lifecycle image ${ref}: label ${LIFECYCLE_APIS_LABEL} is not {"platform": {"supported": [...]}, ...}: ${label}`,
    { hints: ["fix the image's label, or remove it to use the builder's Platform API"] },
  );
}
