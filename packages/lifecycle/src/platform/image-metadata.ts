/**
 * The app image's `io.buildpacks.lifecycle.metadata` label (JSON) in analyzed.toml's `[metadata]` spelling:
 * layer `data` becomes `metadata`, `runImage`/`topLayer` become `run-image`/`top-layer`. False booleans and
 * empty values are left out, as the Go lifecycle writes them.
 */
import type { LifecycleMetadata } from "@cnbp/core";

type Table = Record<string, unknown>;

function compact(table: Table): Table {
  return Object.fromEntries(
    Object.entries(table).filter(
      ([, v]) =>
        v !== undefined && v !== null && v !== false && v !== "" && !(Array.isArray(v) && v.length === 0),
    ),
  );
}

const sha = (ref: { sha?: string } | null | undefined) => (ref?.sha ? { sha: ref.sha } : undefined);

export function analyzedMetadataFromLabel(label: LifecycleMetadata): Table {
  const runImage = label.runImage;
  const stackRun = label.stack?.runImage;
  return compact({
    app: Array.isArray(label.app) ? label.app.map((a) => ({ sha: a.sha })) : undefined,
    sbom: sha(label.sbom),
    config: sha(label.config),
    launcher: sha(label.launcher),
    "process-types": sha(label["process-types"]),
    buildpacks: label.buildpacks?.map((bp) =>
      compact({
        key: bp.key,
        version: bp.version,
        layers: Object.fromEntries(
          Object.entries(bp.layers ?? {}).map(([name, layer]) => [
            name,
            compact({
              sha: layer.sha,
              build: layer.build,
              launch: layer.launch,
              cache: layer.cache,
              metadata: layer.data ?? undefined,
            }),
          ]),
        ),
        store: bp.store?.metadata ? { metadata: bp.store.metadata } : undefined,
      }),
    ),
    "run-image": runImage
      ? compact({
          "top-layer": runImage.topLayer,
          reference: runImage.reference,
          image: runImage.image,
          mirrors: runImage.mirrors ?? undefined,
        })
      : undefined,
    stack: stackRun
      ? { "run-image": compact({ image: stackRun.image, mirrors: stackRun.mirrors ?? undefined }) }
      : undefined,
  });
}
