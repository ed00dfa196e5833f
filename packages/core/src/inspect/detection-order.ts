/**
 * A detection order as a tree: each group's entries, and under a composite buildpack its own order, found in
 * the image's layers label. Expanded `depth` levels deep (all when undefined); a composite that names one of
 * its ancestors is marked cyclic and not expanded again.
 */
import type { ModuleLayers } from "../spec/kinds/label-buildpack-layers.js";
import type { OrderLabel } from "../spec/kinds/label-buildpack-order.js";

export interface DetectionGroup {
  readonly group: readonly DetectionEntry[];
}

export interface DetectionEntry {
  readonly id: string;
  /** As the order gives it, else the one version the image has. */
  readonly version?: string;
  readonly optional: boolean;
  /** The entry is a composite that is also one of its own ancestors. */
  readonly cyclic?: true;
  /** A composite buildpack's own order (absent past the depth asked for). */
  readonly order?: readonly DetectionGroup[];
}

export function detectionOrder(
  order: OrderLabel,
  layers: ModuleLayers,
  depth: number | undefined,
): DetectionGroup[] {
  return expand(order, layers, depth, []);
}

function expand(
  order: OrderLabel,
  layers: ModuleLayers,
  depth: number | undefined,
  ancestors: readonly string[],
): DetectionGroup[] {
  return order.map(({ group }) => ({
    group: group.map((ref): DetectionEntry => {
      const version = ref.version ?? onlyVersion(layers, ref.id);
      const entry = { id: ref.id, ...(version ? { version } : {}), optional: ref.optional === true };
      const nested = version ? layers[ref.id]?.[version]?.order : undefined;
      if (!nested?.length || depth === 0) return entry;
      const key = `${ref.id}@${version}`;
      if (ancestors.includes(key)) return { ...entry, cyclic: true };
      const next = depth === undefined ? undefined : depth - 1;
      return { ...entry, order: expand(nested, layers, next, [...ancestors, key]) };
    }),
  }));
}

function onlyVersion(layers: ModuleLayers, id: string): string | undefined {
  const versions = Object.keys(layers[id] ?? {});
  return versions.length === 1 ? versions[0] : undefined;
}
