/**
 * `builder create --flatten` (pack's): the builder's buildpacks and extensions in one layer instead of one
 * each, but those given by `--flatten-exclude <id>@<version>`, which keep their own. Each module is taken from
 * its own layer (a directory's, an archive's or a buildpackage's) and written with the same entries as there,
 * in the builder's module order, so the same modules always give the same flattened layer.
 */
import { UsageError } from "../../errors.js";
import { extractLayer, type LayerPart, openLayerBlob } from "../../image/index.js";
import type { AuthoringContext } from "../context.js";
import { escapeId, type ModuleKind, moduleDir, moduleParts, moduleRoot } from "../module-layer.js";
import { moduleKey, type ResolvedModule } from "../modules.js";
import { builderLayer, type SmallLayer } from "./layers.js";

export interface Flattened {
  /** The one layer of the flattened modules; none when every module is excluded. */
  readonly layer?: SmallLayer;
  /** The modules, in the order given, the flattened ones pointing at that layer. */
  readonly modules: ResolvedModule[];
  /** The modules excluded, with their own layers. */
  readonly kept: ResolvedModule[];
}

/** Flattens `modules` but those whose `<id>@<version>` is in `exclude` (each must name one of them). */
export async function flattenModules(
  modules: readonly ResolvedModule[],
  exclude: readonly string[],
  ctx: AuthoringContext,
): Promise<Flattened> {
  const keys = new Set(modules.map((m) => moduleKey(m.info)));
  const unknown = exclude.filter((key) => !keys.has(key));
  if (unknown.length) {
    throw new UsageError(
      `--flatten-exclude ${unknown.join(", ")}: not a buildpack or extension of the builder (it has ${[...keys].join(", ")})`,
    );
  }
  const kept = modules.filter((m) => exclude.includes(moduleKey(m.info)));
  const flat = modules.filter((m) => !kept.includes(m));
  const parts: LayerPart[] = [];
  const idDirs = new Set<string>();
  for (const m of flat) {
    const { id, version } = m.info;
    const hostDir = ctx.scratch.path(`flatten-${m.kind}-${id}-${version}`);
    await extractLayer(await openLayerBlob(m.layer), hostDir, {
      label: `${m.kind} ${moduleKey(m.info)}`,
      strip: moduleDir(m.kind, id, version),
      ownership: "none",
    });
    const idDir = `${moduleRoot(m.kind)}/${escapeId(id)}`;
    parts.push(...moduleParts(m.kind, id, version, hostDir, !idDirs.has(idDir)));
    idDirs.add(idDir);
  }
  if (flat.length === 0) return { modules: [...modules], kept };
  const count = (kind: ModuleKind) => {
    const n = flat.filter((m) => m.kind === kind).length;
    return n ? [`${n} ${kind}${n === 1 ? "" : "s"}`] : [];
  };
  const what = `flattened ${[...count("buildpack"), ...count("extension")].join(", ")}`;
  const flattened = await builderLayer(what, parts, ctx.scratch);
  return {
    layer: flattened,
    modules: modules.map((m) => (kept.includes(m) ? m : { ...m, layer: flattened.layer })),
    kept,
  };
}
