/**
 * What a buildpackage holds, read from its labels alone (distribution.md 2): the entrypoint module, its
 * targets (or legacy stacks), every module packaged, and the detection order the entrypoint gives.
 */
import { CnbpError } from "../errors.js";
import { builderMetadataLabel } from "../spec/kinds/label-builder-metadata.js";
import { buildpackLayersLabel, extensionLayersLabel } from "../spec/kinds/label-buildpack-layers.js";
import { buildpackageMetadataLabel } from "../spec/kinds/label-buildpackage-metadata.js";
import { type DetectionGroup, detectionOrder } from "./detection-order.js";
import { type IndexSummary, indexOf } from "./image-index.js";
import type { InspectedImage } from "./image-source.js";
import { labelText, readLabel } from "./labels.js";
import { type ModuleSummary, moduleSummary, type TargetSummary, targetSummary } from "./modules.js";

export interface BuildpackageInfo {
  readonly image: string;
  /** Of an image index: every buildpackage's target, and the one the rest is of. */
  readonly index?: IndexSummary;
  /** An extension package carries `io.buildpacks.extension.layers` instead of `io.buildpacks.buildpack.layers`. */
  readonly kind: "buildpack" | "extension";
  /** The entrypoint module, as `io.buildpacks.buildpackage.metadata` describes it. */
  readonly id: string;
  readonly version: string;
  readonly name?: string;
  readonly homepage?: string;
  readonly description?: string;
  readonly targets: readonly TargetSummary[];
  /** Legacy stack ids (with their mixins) the entrypoint supports. */
  readonly stacks: readonly { readonly id: string; readonly mixins: readonly string[] }[];
  /** Every module in the package, sorted by id then version. */
  readonly modules: readonly ModuleSummary[];
  /** One group holding the entrypoint, a composite's own order under it. */
  readonly detectionOrder: readonly DetectionGroup[];
}

/** Reads a buildpackage's labels; throws when the image is not a buildpackage or a label does not validate. */
export function buildpackageInfo(image: InspectedImage, opts: { depth?: number } = {}): BuildpackageInfo {
  const md = readLabel(image, buildpackageMetadataLabel);
  if (!md) throw notABuildpackage(image);
  const bpLayers = readLabel(image, buildpackLayersLabel);
  const kind =
    bpLayers === undefined && labelText(image, extensionLayersLabel.name) ? "extension" : "buildpack";
  const layersLabel = kind === "extension" ? extensionLayersLabel : buildpackLayersLabel;
  const layers = (kind === "extension" ? readLabel(image, extensionLayersLabel) : bpLayers) ?? {};
  const entrypoint = layers[md.id]?.[md.version];
  if (!entrypoint) {
    throw new CnbpError(
      "CNBP_INVALID_BUILDPACKAGE",
      `${image.name}: label ${layersLabel.name} has no ${md.id}@${md.version}, the entrypoint that ${buildpackageMetadataLabel.name} names`,
    );
  }
  const modules = Object.entries(layers)
    .flatMap(([id, versions]) =>
      Object.entries(versions).map(([version, info]) => {
        const own: { name?: string; homepage?: string } = id === md.id && version === md.version ? md : {};
        return moduleSummary({
          id,
          version,
          name: info.name ?? own.name,
          homepage: info.homepage ?? own.homepage,
        });
      }),
    )
    .sort((a, b) => compare(a.id, b.id) || compare(a.version, b.version));
  return {
    image: image.name,
    ...indexOf(image),
    kind,
    id: md.id,
    version: md.version,
    ...(md.name ? { name: md.name } : {}),
    ...(md.homepage ? { homepage: md.homepage } : {}),
    ...(md.description ? { description: md.description } : {}),
    targets: (md.targets ?? entrypoint.targets ?? []).map(targetSummary),
    stacks: (md.stacks ?? entrypoint.stacks ?? []).map((s) => ({ id: s.id, mixins: s.mixins ?? [] })),
    modules,
    detectionOrder: detectionOrder([{ group: [{ id: md.id, version: md.version }] }], layers, opts.depth),
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function notABuildpackage(image: InspectedImage): CnbpError {
  const builder = labelText(image, builderMetadataLabel.name) !== undefined;
  return new CnbpError(
    "CNBP_NOT_A_BUILDPACKAGE",
    `${image.name}: not a buildpackage: the image has no ${buildpackageMetadataLabel.name} label`,
    builder ? { hints: [`it is a builder: run \`cnbp builder inspect ${image.name}\``] } : {},
  );
}
