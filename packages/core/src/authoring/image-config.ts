/** The config of an authored image: a base image's (or an empty one) with layers and labels added. */
import type { Digest, ImageConfig } from "../image/index.js";
import { CNB_EPOCH } from "../image/index.js";

export interface AddedLayer {
  readonly diffId: Digest;
  /** Says in the image history what the layer holds. */
  readonly what: string;
}

/** `base` plus `layers` on top and `labels` merged in; created at the CNB epoch so digests are reproducible. */
export function extendConfig(
  base: ImageConfig,
  layers: readonly AddedLayer[],
  labels: Record<string, string>,
  changes: { workingDir?: string } = {},
): ImageConfig {
  const created = CNB_EPOCH.toISOString();
  const history = base.history?.length
    ? [...base.history, ...layers.map((l) => ({ created, created_by: `cnbp: ${l.what}` }))]
    : undefined;
  return {
    ...base,
    created,
    config: {
      ...base.config,
      ...(changes.workingDir ? { WorkingDir: changes.workingDir } : {}),
      Labels: { ...(base.config?.Labels ?? {}), ...labels },
    },
    rootfs: { type: "layers", diff_ids: [...base.rootfs.diff_ids, ...layers.map((l) => l.diffId)] },
    ...(history ? { history } : {}),
  };
}

export function emptyConfig(platform: { os: string; architecture: string; variant?: string }): ImageConfig {
  return {
    os: platform.os,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
  };
}
