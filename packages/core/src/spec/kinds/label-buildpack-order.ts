/** io.buildpacks.buildpack.order and .order-extensions: a builder's orders as JSON (distribution.md 3). */
import type { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { orderGroups } from "../schema.js";

export type OrderLabel = z.infer<typeof orderGroups>;

export const buildpackOrderLabel: FileKind<OrderLabel> = {
  name: "io.buildpacks.buildpack.order",
  fileNames: [],
  format: "json",
  summary: "builder label: the buildpack order, as builder.toml gives it",
  schema: orderGroups,
};

export const orderExtensionsLabel: FileKind<OrderLabel> = {
  name: "io.buildpacks.buildpack.order-extensions",
  fileNames: [],
  format: "json",
  summary: "builder label: the extension order, as builder.toml gives it",
  schema: orderGroups,
};
