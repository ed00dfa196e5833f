/**
 * The modules a `uri` gives (distribution.md 1): one from a directory or an archive of a module root, every
 * module of a buildpackage (`.cnb` file or `docker://` image) by the layers its labels list, reused as they
 * are (same diffID in every image that carries them).
 */
import { join } from "node:path";
import { extractLayer, layerForDiffId, ociLayerType, type SourceImage } from "../../image/index.js";
import {
  buildpackageMetadataLabel,
  buildpackLayersLabel,
  buildpackToml,
  extensionLayersLabel,
  extensionToml,
  type ModuleLayers,
  readSpecFile,
  validateSpec,
} from "../../spec/index.js";
import { type AuthoringContext, SourceError } from "../context.js";
import { type ModuleKind, writeModuleLayer } from "../module-layer.js";
import { describeModule, type ModuleInfo, type ResolvedModule } from "../modules.js";
import { openImage, openPackageFile } from "./images.js";
import { type Located, locate } from "./locate.js";

const LAYERS_LABEL = {
  buildpack: buildpackLayersLabel,
  extension: extensionLayersLabel,
} as const;

/** Every module `uri` (relative to `baseDir`) gives; the caller picks those of the kind it wants. */
export async function resolveModules(
  uri: string,
  baseDir: string,
  kind: ModuleKind,
  ctx: AuthoringContext,
): Promise<ResolvedModule[]> {
  return modulesAt(await locate(uri, baseDir, ctx.scratch), uri, kind, ctx);
}

/** Every module at a located `uri`. */
export async function modulesAt(
  located: Located,
  uri: string,
  kind: ModuleKind,
  ctx: AuthoringContext,
): Promise<ResolvedModule[]> {
  switch (located.kind) {
    case "dir":
      return [await moduleFromDir(located.path, kind, uri, ctx, true)];
    case "archive": {
      const dir = ctx.scratch.path("module");
      await extractLayer(located.path, dir, { label: uri, ownership: "none" });
      return [await moduleFromDir(dir, kind, uri, ctx, false)];
    }
    case "package-file":
      return modulesOfPackage(await openPackageFile(located.path, ctx), uri);
    case "image":
      return modulesOfPackage(await openImage(located.ref, ctx), uri);
  }
}

/** A module root: its descriptor read and validated, its layer written (or taken from the cache). */
export async function moduleFromDir(
  dir: string,
  kind: ModuleKind,
  from: string,
  ctx: AuthoringContext,
  cacheable: boolean,
): Promise<ResolvedModule> {
  const file = join(dir, `${kind}.toml`);
  let described: ReturnType<typeof describeModule>;
  try {
    described = describeModule(
      kind === "buildpack"
        ? await readSpecFile(buildpackToml, file)
        : await readSpecFile(extensionToml, file),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new SourceError(`${JSON.stringify(from)} has no ${kind}.toml at its root`);
    }
    throw err;
  }
  const { id, version } = described.info;
  const scratch = ctx.scratch.path(`${id}-${version}.tgz`);
  const write = (to: string) => writeModuleLayer(kind, id, version, dir, to);
  const { path, result } = cacheable
    ? await ctx.cache.dirLayer(dir, `module ${kind} ${id} ${version} 1`, scratch, write)
    : { path: scratch, result: await write(scratch) };
  return {
    kind,
    ...described,
    layer: {
      descriptor: { mediaType: result.mediaType, digest: result.digest, size: result.size },
      diffId: result.diffId,
      origin: { kind: "file", path },
    },
    from,
  };
}

/** Every module a buildpackage's labels list, each with its layer in the package image. */
export function modulesOfPackage(image: SourceImage, from: string): ResolvedModule[] {
  const labels = image.config.config?.Labels ?? {};
  const entry = labelJson(labels, buildpackageMetadataLabel.name, from);
  const modules: ResolvedModule[] = [];
  for (const kind of ["buildpack", "extension"] as const) {
    const kindLabel = LAYERS_LABEL[kind];
    const raw = labelJson(labels, kindLabel.name, from);
    if (raw === undefined) continue;
    const parsed = validateSpec(kindLabel, raw, `${from} label ${kindLabel.name}`);
    if (!parsed.ok) {
      throw new SourceError(`${from}: label ${kindLabel.name} is invalid: ${parsed.problems[0]?.message}`);
    }
    modules.push(...packageModules(kind, parsed.value, image, from, entry as ModuleInfo | undefined));
  }
  if (modules.length === 0) {
    throw new SourceError(
      `${from} is not a buildpackage: it has no ${buildpackLayersLabel.name} or ${extensionLayersLabel.name} label`,
    );
  }
  return modules;
}

function packageModules(
  kind: ModuleKind,
  layers: ModuleLayers,
  image: SourceImage,
  from: string,
  entry: ModuleInfo | undefined,
): ResolvedModule[] {
  return Object.entries(layers).flatMap(([id, versions]) =>
    Object.entries(versions).map(([version, { layerDiffID, ...layerInfo }]): ResolvedModule => {
      const descriptor = layerForDiffId(image.manifest, image.config, layerDiffID);
      if (!descriptor) throw new SourceError(`${from}: ${kind} ${id}@${version} has no layer ${layerDiffID}`);
      const isEntry = entry?.id === id && entry.version === version;
      const info: ModuleInfo = isEntry
        ? pickInfo(entry)
        : {
            id,
            version,
            ...(layerInfo.name ? { name: layerInfo.name } : {}),
            ...(layerInfo.homepage ? { homepage: layerInfo.homepage } : {}),
          };
      return {
        kind,
        info,
        layerInfo,
        layer: {
          descriptor: { ...descriptor, mediaType: ociLayerType(descriptor.mediaType) },
          diffId: layerDiffID,
          origin: { kind: "image", image },
        },
        from,
      };
    }),
  );
}

function pickInfo(m: ModuleInfo): ModuleInfo {
  const { id, version, name, description, homepage, keywords, licenses } = m;
  return Object.fromEntries(
    Object.entries({ id, version, name, description, homepage, keywords, licenses }).filter(
      ([, v]) => v !== undefined && v !== null,
    ),
  ) as unknown as ModuleInfo;
}

function labelJson(labels: Record<string, string>, name: string, from: string): unknown {
  const text = labels[name];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new SourceError(`${from}: label ${name} is not valid JSON`);
  }
}
