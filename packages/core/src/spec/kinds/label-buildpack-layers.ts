/**
 * io.buildpacks.buildpack.layers and io.buildpacks.extension.layers: every module of a buildpackage
 * or builder, by id then version, with the diffID of its layer (files.md 3.6).
 */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { apiVersionString, digest, orderGroups, target } from "../schema.js";
import { stack } from "./buildpack-toml.js";

export const moduleLayerInfo = z.looseObject({
  api: apiVersionString,
  layerDiffID: digest,
  stacks: z.array(stack).nullable().optional(),
  targets: z.array(target).nullable().optional(),
  order: orderGroups.nullable().optional(),
  homepage: z.string().optional(),
  name: z.string().optional(),
});

const schema = z.record(z.string().min(1), z.record(z.string().min(1), moduleLayerInfo));

export type ModuleLayers = z.infer<typeof schema>;

export const buildpackLayersLabel: FileKind<ModuleLayers> = {
  name: "io.buildpacks.buildpack.layers",
  fileNames: [],
  format: "json",
  summary: "builder and buildpackage label: every buildpack by id and version, with its layer diffID",
  schema,
};

export const extensionLayersLabel: FileKind<ModuleLayers> = {
  name: "io.buildpacks.extension.layers",
  fileNames: [],
  format: "json",
  summary: "builder and buildpackage label: every extension by id and version, with its layer diffID",
  schema,
};
