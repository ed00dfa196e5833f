/** A buildpack or extension ready to go into an image: who it is, what the labels say of it, and its layer. */

import type { LayerToWrite } from "../image/index.js";
import type { BuildpackDescriptor, ExtensionDescriptor, ModuleLayers } from "../spec/index.js";
import type { ModuleKind } from "./module-layer.js";

type ModuleLayerInfo = ModuleLayers[string][string];

/** What `io.buildpacks.buildpack.layers` says of a module, but its diffID. */
export type LayerInfo = Pick<ModuleLayerInfo, "api" | "stacks" | "targets" | "order" | "homepage" | "name">;

/** The module info pack puts in `io.buildpacks.builder.metadata` and `io.buildpacks.buildpackage.metadata`. */
export interface ModuleInfo {
  readonly id: string;
  readonly version: string;
  readonly name?: string;
  readonly description?: string;
  readonly homepage?: string;
  readonly keywords?: string[];
  readonly licenses?: { type?: string; uri?: string }[];
}

export interface ResolvedModule {
  readonly kind: ModuleKind;
  readonly info: ModuleInfo;
  readonly layerInfo: LayerInfo;
  readonly layer: LayerToWrite;
  /** Where it came from, for messages. */
  readonly from: string;
}

export const moduleKey = (m: { id: string; version?: string }) => `${m.id}@${m.version ?? ""}`;

/** What the labels say of a module whose descriptor was read. */
export function describeModule(descriptor: BuildpackDescriptor | ExtensionDescriptor): {
  info: ModuleInfo;
  layerInfo: LayerInfo;
} {
  const bp = descriptor as BuildpackDescriptor;
  const body: BuildpackDescriptor["buildpack"] =
    bp.buildpack ?? (descriptor as ExtensionDescriptor).extension;
  const info: ModuleInfo = {
    id: body.id,
    version: body.version,
    ...(body.name ? { name: body.name } : {}),
    ...(body.description ? { description: body.description } : {}),
    ...(body.homepage ? { homepage: body.homepage } : {}),
    ...(body.keywords?.length ? { keywords: body.keywords } : {}),
    ...(body.licenses?.length ? { licenses: body.licenses } : {}),
  };
  const { order, stacks } = bp;
  const layerInfo: LayerInfo = {
    api: descriptor.api,
    ...(stacks?.length ? { stacks } : {}),
    ...(descriptor.targets?.length ? { targets: descriptor.targets } : {}),
    ...(order?.length ? { order } : {}),
    ...(body.homepage ? { homepage: body.homepage } : {}),
    ...(body.name ? { name: body.name } : {}),
  };
  return { info, layerInfo };
}

/** `io.buildpacks.buildpack.layers` / `io.buildpacks.extension.layers` of these modules (files.md 3.6). */
export function moduleLayers(modules: readonly ResolvedModule[]): ModuleLayers {
  const out: ModuleLayers = {};
  for (const m of modules) {
    out[m.info.id] = { ...out[m.info.id], [m.info.version]: { ...m.layerInfo, layerDiffID: m.layer.diffId } };
  }
  return out;
}
