/**
 * `builder create` (distribution.md 3): the build image plus the lifecycle, one layer per module (with
 * `--flatten` one for all of them but those excluded), the builder's own small layers and its labels.
 * Everything is resolved and checked before anything is written; problems name the builder.toml line and field.
 */
import { dirname } from "node:path";
import type { Problem } from "../../errors.js";
import type { SourceImage } from "../../image/index.js";
import {
  apiSupported,
  type BuilderConfig,
  builderBuildImage,
  builderMetadataLabel,
  builderRunImages,
  builderToml,
  buildpackLayersLabel,
  buildpackOrderLabel,
  extensionLayersLabel,
  lifecycleApis,
  type OrderFile,
  orderExtensionsLabel,
  serializeSpec,
} from "../../spec/index.js";
import { ConfigFile } from "../config-file.js";
import { type AuthoringContext, SourceError } from "../context.js";
import { extendConfig } from "../image-config.js";
import type { ModuleKind } from "../module-layer.js";
import { compositeProblems, ModuleSet } from "../module-set.js";
import { moduleKey, moduleLayers, type ResolvedModule } from "../modules.js";
import type { Output } from "../output.js";
import {
  type AuthoredImage,
  type AuthoringOptions,
  type PlatformImage,
  saveAuthored,
  saveAuthoredIndex,
  withAuthoring,
} from "../run.js";
import { openImage } from "../sources/images.js";
import { lifecycleFromDir, type ResolvedLifecycle, resolveLifecycle } from "../sources/lifecycle.js";
import { resolveModules } from "../sources/modules.js";
import { buildEnvProblems } from "./build-env.js";
import { flattenModules } from "./flatten.js";
import {
  buildEnvLayer,
  dirsLayer,
  orderLayer,
  runLayer,
  type SmallLayer,
  stackLayer,
  systemLayer,
} from "./layers.js";
import {
  builderPlatforms,
  buildImagePlatformProblems,
  moduleTargetProblems,
  showPlatform,
  targetProblems,
} from "./targets.js";

export interface CreateBuilderRequest {
  /** builder.toml; relative uris in it are relative to its directory. */
  readonly config: string;
  readonly output: Output;
  /** cnbp's own `/cnb/lifecycle` tree: the lifecycle when builder.toml names none. */
  readonly defaultLifecycle: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** `--flatten`: the modules in one layer, but those whose `<id>@<version>` is in `exclude`. */
  readonly flatten?: { readonly exclude: readonly string[] };
  readonly createdBy: { readonly name: string; readonly version: string };
  /**
   * The destination holds one image per name (a driver's store): with several `[[targets]]`, only the
   * builder for the platform asked for is made. Otherwise there is one builder per target, in an image index.
   */
  readonly onePlatform?: boolean;
}

type Builder = ConfigFile<BuilderConfig>;

export function createBuilder(
  request: CreateBuilderRequest,
  options: AuthoringOptions,
): Promise<AuthoredImage> {
  return withAuthoring(options, async (ctx) => {
    const file = await ConfigFile.read(builderToml, request.config);
    file.check(buildEnvProblems(file));
    const { platforms, notes } = builderPlatforms(file, ctx.platform, request.onePlatform === true);
    // every platform's builder is resolved and checked before any is written
    const images: PlatformImage[] = [];
    for (const [i, platform] of platforms.entries()) {
      const targetIndex = platforms.length > 1 ? i : undefined;
      images.push(await builderImage(file, request, { ...ctx, platform }, targetIndex, notes));
    }
    const warnings = [...file.warnings, ...notes];
    const [only] = images;
    if (only && images.length === 1) {
      return saveAuthored(only.image, request.output, ctx, only.added, warnings);
    }
    return saveAuthoredIndex(images, request.output, ctx, warnings);
  });
}

/**
 * The builder for `ctx.platform`; `targetIndex` is its `[[targets]]` entry when one builder is made per
 * target, whose build image must then be for that very platform.
 */
async function builderImage(
  file: Builder,
  request: CreateBuilderRequest,
  ctx: AuthoringContext,
  targetIndex: number | undefined,
  notes: Problem[],
): Promise<PlatformImage> {
  const config = file.value;
  const baseDir = dirname(request.config);

  const buildImage = await file.source(["build", "image"], () =>
    openImage(builderBuildImage(config) as string, ctx),
  );
  const user = buildUser(file, buildImage);
  file.check(
    targetIndex === undefined
      ? targetProblems(file, buildImage)
      : buildImagePlatformProblems(file, buildImage, ctx.platform, targetIndex),
  );
  const lifecycle = await file.source(lifecycleField(config), () =>
    config.lifecycle?.uri
      ? resolveLifecycle(config.lifecycle.uri, baseDir, ctx)
      : defaultLifecycle(file, request.defaultLifecycle, ctx, notes),
  );
  const modules = await collectModules(file, baseDir, ctx);
  const buildpackApis = lifecycleApis(lifecycle.descriptor, "buildpack")?.supported ?? [];
  const problems: Problem[] = [];
  for (const { module, path } of modules.sourced()) {
    if (!apiSupported(module.layerInfo.api, buildpackApis)) {
      problems.push(
        file.problem(
          path,
          `${module.kind} ${moduleKey(module.info)} has Buildpack API ${module.layerInfo.api}, which lifecycle ${lifecycle.descriptor.lifecycle.version} does not support (${buildpackApis.join(", ")})`,
        ),
      );
    }
  }
  problems.push(...moduleTargetProblems(file, modules, buildImage));
  problems.push(...compositeProblems(modules, (path, message) => file.problem(path, message)));
  const order = resolveOrder(file, modules, "buildpack", problems);
  const orderExtensions = resolveOrder(file, modules, "extension", problems);
  problems.push(...systemProblems(file, modules));
  file.check(problems);

  // buildpacks, then extensions, each by id and version
  let inBuilder = [...modules.all("buildpack"), ...modules.all("extension")];
  let ownLayers = inBuilder.map(moduleLayer);
  if (request.flatten) {
    const flat = await flattenModules(inBuilder, request.flatten.exclude, ctx);
    inBuilder = flat.modules;
    ownLayers = [...(flat.layer ? [flat.layer] : []), ...flat.kept.map(moduleLayer)];
  }
  const added: SmallLayer[] = [
    await dirsLayer(user, ctx.scratch),
    { what: `lifecycle ${lifecycle.descriptor.lifecycle.version}`, layer: lifecycle.layer },
    ...ownLayers,
  ];
  const orderFile: OrderFile = {
    order,
    ...(orderExtensions.length ? { "order-extensions": orderExtensions } : {}),
  };
  added.push(await orderLayer(orderFile, ctx.scratch));
  if (config.system) added.push(await systemLayer({ system: config.system }, ctx.scratch));
  const runImages = builderRunImages(config).map((r) => ({
    image: r.image,
    ...(r.mirrors?.length ? { mirrors: r.mirrors } : {}),
  }));
  if (needsStackToml(lifecycle)) added.push(await stackLayer({ "run-image": runImages[0] }, ctx.scratch));
  added.push(await runLayer({ images: runImages }, ctx.scratch));
  if (config.build?.env?.length) added.push(await buildEnvLayer(config.build.env, ctx.scratch));

  const labels = builderLabels(config, lifecycle, inBuilder, orderFile, request);
  const image = {
    format: "oci" as const,
    config: extendConfig(
      buildImage.config,
      added.map((a) => ({ diffId: a.layer.diffId, what: a.what })),
      labels,
      { workingDir: "/layers" },
    ),
    layers: [
      ...buildImage.manifest.layers.map((descriptor, i) => ({
        descriptor,
        diffId: buildImage.config.rootfs.diff_ids[i] as string,
        origin: { kind: "image" as const, image: buildImage },
      })),
      ...added.map((a) => a.layer),
    ],
  };
  return { platform: showPlatform(ctx.platform), image, added };
}

const moduleLayer = (m: ResolvedModule): SmallLayer => ({
  what: `${m.kind} ${moduleKey(m.info)}`,
  layer: m.layer,
});

function lifecycleField(config: BuilderConfig): (string | number)[] {
  if (config.lifecycle?.uri) return ["lifecycle", "uri"];
  return config.lifecycle?.version ? ["lifecycle", "version"] : ["lifecycle"];
}

/** The platform cnbp's own lifecycle tree is built for (its node binary is the build machine's). */
const OWN_LIFECYCLE_PLATFORM = "linux/amd64";

/** cnbp's own lifecycle; a `[lifecycle] version` must be its version (cnbp downloads no other). */
async function defaultLifecycle(
  file: Builder,
  tree: string,
  ctx: AuthoringContext,
  notes: Problem[],
): Promise<ResolvedLifecycle> {
  const lifecycle = await lifecycleFromDir(tree, "cnbp's lifecycle", ctx, true);
  const platform = showPlatform(ctx.platform);
  if (platform !== OWN_LIFECYCLE_PLATFORM) {
    notes.push({
      ...file.problem(
        ["lifecycle"],
        `cnbp's own lifecycle is built for ${OWN_LIFECYCLE_PLATFORM}: the ${platform} builder gets it, but builds on ${platform} need a [lifecycle] uri for that platform`,
      ),
      severity: "warning",
    });
  }
  const wanted = file.value.lifecycle?.version?.replace(/^v/, "");
  if (wanted && wanted !== lifecycle.descriptor.lifecycle.version) {
    throw new SourceError(
      `"${wanted}" is not cnbp's own lifecycle (${lifecycle.descriptor.lifecycle.version}): give lifecycle.uri (a directory, an archive or docker://<lifecycle image>) for another lifecycle`,
    );
  }
  return lifecycle;
}

/** The build user's uid and gid, from the build image's CNB_USER_ID and CNB_GROUP_ID (platform.md 12). */
function buildUser(file: Builder, image: SourceImage): { uid: number; gid: number } {
  const env = new Map(
    (image.config.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
  const id = (name: string) => {
    const value = env.get(name);
    if (value === undefined || !/^\d+$/.test(value)) {
      file.fail(
        ["build", "image"],
        `${image.name} is not a build image: its Env has ${value === undefined ? `no ${name}` : `${name}=${value}`} (a build image sets CNB_USER_ID and CNB_GROUP_ID to numbers)`,
      );
    }
    return Number(value);
  };
  return { uid: id("CNB_USER_ID"), gid: id("CNB_GROUP_ID") };
}

async function collectModules(file: Builder, baseDir: string, ctx: AuthoringContext): Promise<ModuleSet> {
  const set = new ModuleSet();
  const problems: Problem[] = [];
  for (const [field, kind] of [
    ["buildpacks", "buildpack"],
    ["extensions", "extension"],
  ] as const) {
    for (const [i, entry] of (file.value[field] ?? []).entries()) {
      const uri = entry.uri ?? `docker://${entry.image}`;
      const path = [field, i, entry.uri ? "uri" : "image"];
      const found = await file.source(path, () => resolveModules(uri, baseDir, kind, ctx));
      const ofKind = found.filter((m) => m.kind === kind);
      if (ofKind.length === 0) file.fail(path, `${JSON.stringify(uri)} holds no ${kind}`);
      const top = ofKind[0] as ResolvedModule;
      if (entry.id && !ofKind.some((m) => m.info.id === entry.id)) {
        problems.push(
          file.problem(
            [field, i, "id"],
            `"${entry.id}" does not match the ${kind} ${JSON.stringify(uri)} holds (${top.info.id})`,
          ),
        );
      }
      if (
        entry.version &&
        !ofKind.some((m) => m.info.version === entry.version && (!entry.id || m.info.id === entry.id))
      ) {
        problems.push(
          file.problem(
            [field, i, "version"],
            `"${entry.version}" does not match the ${kind} ${JSON.stringify(uri)} holds (${top.info.version})`,
          ),
        );
      }
      // a buildpackage brings its dependencies (and any extensions) along
      for (const module of found) {
        const clash = set.add({ module, path });
        if (clash) problems.push(file.problem(path, clash));
      }
    }
  }
  file.check(problems);
  return set;
}

/** `[[order]]` / `[[order-extensions]]` with every version filled in. */
function resolveOrder(
  file: Builder,
  set: ModuleSet,
  kind: ModuleKind,
  problems: Problem[],
): OrderFile["order"] & {} {
  const field = kind === "buildpack" ? "order" : "order-extensions";
  return (file.value[field] ?? []).map((group, i) => ({
    group: group.group.map((entry, j) => {
      const found = set.resolve(kind, entry.id, entry.version);
      if ("problem" in found) {
        problems.push(file.problem([field, i, "group", j, entry.version ? "version" : "id"], found.problem));
        return { id: entry.id, version: entry.version ?? "" };
      }
      return { id: entry.id, version: found.version, ...(entry.optional ? { optional: true } : {}) };
    }),
  }));
}

/** `[system]` pre and post buildpacks must be in the builder, as order entries must. */
function systemProblems(file: Builder, set: ModuleSet): Problem[] {
  return (["pre", "post"] as const).flatMap((when) =>
    (file.value.system?.[when]?.buildpacks ?? []).flatMap((entry, i) => {
      const found = set.resolve("buildpack", entry.id, entry.version);
      return "problem" in found ? [file.problem(["system", when, "buildpacks", i, "id"], found.problem)] : [];
    }),
  );
}

/** stack.toml is read only by Platform APIs before 0.12: written when the lifecycle speaks one. */
function needsStackToml(lifecycle: ResolvedLifecycle): boolean {
  const platform = lifecycleApis(lifecycle.descriptor, "platform")?.supported ?? [];
  return platform.some((v) => /^0\.(\d+)$/.test(v) && Number(v.split(".")[1]) < 12);
}

function builderLabels(
  config: BuilderConfig,
  lifecycle: ResolvedLifecycle,
  modules: readonly ResolvedModule[],
  order: OrderFile,
  request: CreateBuilderRequest,
): Record<string, string> {
  const buildpacks = modules.filter((m) => m.kind === "buildpack");
  const extensions = modules.filter((m) => m.kind === "extension");
  const runImages = builderRunImages(config).map((r) => ({ image: r.image, mirrors: r.mirrors ?? [] }));
  const apis = (kind: "buildpack" | "platform") => {
    const a = lifecycleApis(lifecycle.descriptor, kind);
    return { deprecated: a?.deprecated ?? [], supported: a?.supported ?? [] };
  };
  const metadata = {
    description: config.description ?? "",
    buildpacks: buildpacks.map((m) => m.info),
    ...(extensions.length ? { extensions: extensions.map((m) => m.info) } : {}),
    stack: { runImage: runImages[0] ?? { image: "", mirrors: [] } },
    images: runImages,
    lifecycle: {
      version: lifecycle.descriptor.lifecycle.version,
      // the legacy single APIs (RFC 0011): the oldest supported
      api: { buildpack: apis("buildpack").supported[0] ?? "", platform: apis("platform").supported[0] ?? "" },
      apis: { buildpack: apis("buildpack"), platform: apis("platform") },
    },
    createdBy: request.createdBy,
  };
  const labels: Record<string, string> = {
    [builderMetadataLabel.name]: JSON.stringify(metadata),
    [buildpackLayersLabel.name]: serializeSpec(buildpackLayersLabel, moduleLayers(buildpacks)),
    [buildpackOrderLabel.name]: serializeSpec(buildpackOrderLabel, order.order ?? []),
  };
  if (extensions.length) {
    labels[extensionLayersLabel.name] = serializeSpec(extensionLayersLabel, moduleLayers(extensions));
  }
  if (order["order-extensions"]?.length) {
    labels[orderExtensionsLabel.name] = serializeSpec(orderExtensionsLabel, order["order-extensions"]);
  }
  if (config.system) labels["io.buildpacks.buildpack.system"] = JSON.stringify(config.system);
  return { ...labels, ...request.labels };
}
