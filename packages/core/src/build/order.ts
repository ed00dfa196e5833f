/**
 * The order a build's detector tries when the user chose buildpacks, as pack makes it: a chosen group
 * (`--buildpack`s, else project.toml's `[[io.buildpacks.group]]`) replaces the builder's order with one group
 * of pre + group + post; project.toml's `pre`/`post` alone wrap each of the builder's groups.
 */
import type { OrderFile } from "../spec/index.js";

export interface OrderEntry {
  readonly id: string;
  readonly version: string;
  readonly optional?: boolean;
}

export interface ChosenGroups {
  readonly pre: readonly OrderEntry[];
  readonly group: readonly OrderEntry[];
  readonly post: readonly OrderEntry[];
}

/** The order.toml to give the detector, or undefined when the builder's own stands. */
export function chosenOrder(
  builderOrder: readonly { readonly group: readonly OrderEntry[] }[],
  chosen: ChosenGroups,
): OrderFile | undefined {
  const { pre, group, post } = chosen;
  if (group.length > 0) return { order: [{ group: [...pre, ...group, ...post].map(entry) }] };
  if (pre.length === 0 && post.length === 0) return undefined;
  return { order: builderOrder.map((g) => ({ group: [...pre, ...g.group, ...post].map(entry) })) };
}

const entry = (e: OrderEntry) => ({
  id: e.id,
  version: e.version,
  ...(e.optional ? { optional: true } : {}),
});
