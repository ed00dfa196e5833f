/**
 * What a builder image holds, read from its labels alone (distribution.md 3): description and creator,
 * stack and target, the lifecycle and its APIs, run images, buildpacks, extensions and both detection orders.
 */
import { CnbpError } from "../errors.js";
import {
  type ApiSupport,
  builderLifecycleApis,
  builderMetadataLabel,
  builderMetadataRunImages,
  type RunImageChoice,
} from "../spec/kinds/label-builder-metadata.js";
import { buildpackLayersLabel, extensionLayersLabel } from "../spec/kinds/label-buildpack-layers.js";
import { buildpackOrderLabel, orderExtensionsLabel } from "../spec/kinds/label-buildpack-order.js";
import { buildpackageMetadataLabel } from "../spec/kinds/label-buildpackage-metadata.js";
import { type DetectionGroup, detectionOrder } from "./detection-order.js";
import { type IndexSummary, imageTarget, indexOf } from "./image-index.js";
import type { InspectedImage } from "./image-source.js";
import { labelText, readLabel } from "./labels.js";
import { type ModuleSummary, moduleSummary, type TargetSummary } from "./modules.js";

export interface BuilderInfo {
  readonly image: string;
  /** Of an image index: every builder's target; the rest is of `target`'s. */
  readonly index?: IndexSummary;
  readonly description: string;
  readonly createdBy: { readonly name: string; readonly version: string };
  /** `io.buildpacks.stack.id`, on builders made from legacy stacks. */
  readonly stackId?: string;
  /** The build image's platform and distro. */
  readonly target: TargetSummary;
  readonly lifecycle: {
    readonly version: string;
    readonly buildpackApis: ApiSupport;
    readonly platformApis: ApiSupport;
  };
  readonly runImages: readonly RunImageChoice[];
  readonly buildpacks: readonly ModuleSummary[];
  readonly extensions: readonly ModuleSummary[];
  readonly detectionOrder: readonly DetectionGroup[];
  readonly extensionOrder: readonly DetectionGroup[];
}

const NO_APIS: ApiSupport = { deprecated: [], supported: [] };

/** Reads a builder's labels; throws when the image is not a builder or a label does not validate. */
export function builderInfo(image: InspectedImage, opts: { depth?: number } = {}): BuilderInfo {
  const md = readLabel(image, builderMetadataLabel);
  if (!md) throw notABuilder(image);
  const layers = readLabel(image, buildpackLayersLabel) ?? {};
  const extensionLayers = readLabel(image, extensionLayersLabel) ?? {};
  const stackId = labelText(image, "io.buildpacks.stack.id");
  return {
    image: image.name,
    ...indexOf(image),
    description: md.description ?? "",
    createdBy: { name: md.createdBy?.name ?? "", version: md.createdBy?.version ?? "" },
    ...(stackId ? { stackId } : {}),
    target: imageTarget(image.config),
    lifecycle: {
      version: md.lifecycle?.version ?? "",
      buildpackApis: builderLifecycleApis(md, "buildpack") ?? NO_APIS,
      platformApis: builderLifecycleApis(md, "platform") ?? NO_APIS,
    },
    runImages: builderMetadataRunImages(md),
    buildpacks: (md.buildpacks ?? []).map(moduleSummary),
    extensions: (md.extensions ?? []).map(moduleSummary),
    detectionOrder: detectionOrder(readLabel(image, buildpackOrderLabel) ?? [], layers, opts.depth),
    extensionOrder: detectionOrder(readLabel(image, orderExtensionsLabel) ?? [], extensionLayers, opts.depth),
  };
}

function notABuilder(image: InspectedImage): CnbpError {
  const buildpackage = labelText(image, buildpackageMetadataLabel.name) !== undefined;
  return new CnbpError(
    "CNBP_NOT_A_BUILDER",
    `${image.name}: not a builder: the image has no ${builderMetadataLabel.name} label`,
    buildpackage ? { hints: [`it is a buildpackage: run \`cnbp buildpack inspect ${image.name}\``] } : {},
  );
}
