/** The JSON `io.buildpacks.*` image labels (shared/spec/files.md 3). */
import type { AnyFileKind } from "../file-kind.js";
import { buildMetadataLabel } from "./label-build-metadata.js";
import { builderMetadataLabel } from "./label-builder-metadata.js";
import { buildpackLayersLabel, extensionLayersLabel } from "./label-buildpack-layers.js";
import { buildpackOrderLabel, orderExtensionsLabel } from "./label-buildpack-order.js";
import { buildpackageMetadataLabel } from "./label-buildpackage-metadata.js";
import { cacheMetadataLabel } from "./label-lifecycle-cache-metadata.js";
import { lifecycleMetadataLabel } from "./label-lifecycle-metadata.js";
import { projectMetadataLabel } from "./label-project-metadata.js";

export const labelKinds: readonly AnyFileKind[] = [
  lifecycleMetadataLabel,
  buildMetadataLabel,
  projectMetadataLabel,
  cacheMetadataLabel,
  builderMetadataLabel,
  buildpackLayersLabel,
  extensionLayersLabel,
  buildpackageMetadataLabel,
  buildpackOrderLabel,
  orderExtensionsLabel,
];
