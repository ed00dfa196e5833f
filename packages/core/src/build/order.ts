/**
 * The order a build's detector tries when the user chose buildpacks or extensions, as pack makes it: a chosen
 * group (`--buildpack`s, else project.toml's `[[io.buildpacks.group]]`) replaces the builder's order with one
 * group of pre + group + post; project.toml's `pre`/`post` alone wrap each of the builder's groups. Chosen
 * extensions (`--extension`s) replace the builder's extension order with one group; else the builder's stays.
 */
import type { OrderFile } from "../spec/index.js";

export interface OrderEntry {
  readonly id: string;
  readonly version: string;
  readonly optional?: boolean;
}

type Groups = readonly { readonly group: readonly OrderEntry[] }[];

/** The builder's detection orders: its buildpack groups and its extension groups. */
export interface BuilderOrders {
  readonly order: Groups;
  readonly extensions: Groups;
}

export interface ChosenGroups {
  readonly pre: readonly OrderEntry[];
  readonly group: readonly OrderEntry[];
  readonly post: readonly OrderEntry[];
  readonly extensions: readonly OrderEntry[];
}

/** The order.toml to give the detector, or undefined when the builder's own stands. */
export function chosenOrder(builder: BuilderOrders, chosen: ChosenGroups): OrderFile | undefined {
  const buildpacks = chosenBuildpacks(builder.order, chosen);
  if (!buildpacks && chosen.extensions.length === 0) return undefined;
  const extensions = chosen.extensions.length ? [{ group: chosen.extensions }] : builder.extensions;
  return {
    order: groups(buildpacks ?? builder.order),
    // the file replaces the builder's whole order.toml: its extension order goes in too
    ...(extensions.length ? { "order-extensions": groups(extensions) } : {}),
  };
}

/** The buildpack groups the choice makes, or undefined when it keeps the builder's. */
function chosenBuildpacks(builderOrder: Groups, { pre, group, post }: ChosenGroups): Groups | undefined {
  if (group.length > 0) return [{ group: [...pre, ...group, ...post] }];
  if (pre.length === 0 && post.length === 0) return undefined;
  return builderOrder.map((g) => ({ group: [...pre, ...g.group, ...post] }));
}

const groups = (order: Groups) => order.map((g) => ({ group: g.group.map(entry) }));

const entry = (e: OrderEntry) => ({
  id: e.id,
  version: e.version,
  ...(e.optional ? { optional: true } : {}),
});
