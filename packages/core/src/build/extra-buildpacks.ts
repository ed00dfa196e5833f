/**
 * Buildpacks and image extensions a build is given besides the builder's, without baking an ephemeral builder
 * image (pack does, at up to a minute and a half a build: buildpacks/pack#1582). Each is resolved with
 * authoring's sources (a directory, an archive, a buildpackage or extension package file or `docker://` image,
 * with its dependencies), checked against the builder (Buildpack API, target), and extracted on the host as
 * `<escaped id>/<version>/`, for the phases that run it to mount over `/cnb/buildpacks/<escaped id>/<version>`
 * (`/cnb/extensions/...` for extensions). The order the user chose goes to the detector as an order.toml.
 * Everything is checked before any container starts.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fitsPlatform, showTarget } from "../authoring/builder/targets.js";
import { type AuthoringContext, SourceError } from "../authoring/context.js";
import { escapeId, type ModuleKind, moduleRoot } from "../authoring/module-layer.js";
import { ModuleSet } from "../authoring/module-set.js";
import { moduleKey, type ResolvedModule } from "../authoring/modules.js";
import { withAuthoring } from "../authoring/run.js";
import { moduleFromDir, resolveModules } from "../authoring/sources/modules.js";
import { CnbpError } from "../errors.js";
import { extractLayer, openLayerBlob, type RegistryClient } from "../image/index.js";
import type { DetectionGroup } from "../inspect/detection-order.js";
import { apiSupported, type ModuleLayers, type OrderFile } from "../spec/index.js";
import type { ResolvedBuilder } from "./builder.js";
import {
  type BuilderModules,
  type BuildpackRef,
  type BuildpackSpec,
  classifyModule,
  codeOf,
  type InlineScript,
  moduleOfOtherKind,
  otherKind,
} from "./buildpack-refs.js";
import { chosenOrder, type OrderEntry } from "./order.js";

/** The buildpacks a build is given: `group` replaces the builder's order; `pre`/`post` wrap it. */
export interface BuildpackChoice {
  readonly group?: readonly BuildpackSpec[];
  readonly pre?: readonly BuildpackSpec[];
  readonly post?: readonly BuildpackSpec[];
}

/** A module's directory on the host, for `/cnb/{buildpacks,extensions}/<escaped id>/<version>`. */
export interface ModuleDir {
  readonly id: string;
  readonly version: string;
  readonly source: string;
}

export interface PreparedBuildpacks {
  /** The order.toml that replaces the builder's, when the choice changes it. */
  readonly order?: OrderFile;
  /** Buildpacks the builder lacks (or has with other content). */
  readonly dirs: readonly ModuleDir[];
  /** Extensions given as sources: always mounted (the builder's extension layers are not compared). */
  readonly extensionDirs: readonly ModuleDir[];
  /** Removes the host directories. */
  dispose(): Promise<void>;
}

export interface PrepareOptions {
  readonly registry: RegistryClient;
  /** The host directories go in a temporary directory here; directory layers are cached in `layers/`. */
  readonly cacheRoot: string;
}

/** A spec and the kind of module it must give. */
interface Wanted {
  readonly spec: BuildpackSpec;
  readonly kind: ModuleKind;
}

/**
 * `extensions` (`--extension`) make one group that replaces the builder's extension order. Undefined when
 * nothing was chosen: the builder's modules and orders stand.
 */
export async function prepareBuildpacks(
  choice: BuildpackChoice,
  extensions: readonly BuildpackSpec[],
  builder: ResolvedBuilder,
  opts: PrepareOptions,
): Promise<PreparedBuildpacks | undefined> {
  const wanted: Wanted[] = [
    ...[...(choice.pre ?? []), ...(choice.group ?? []), ...(choice.post ?? [])].map((spec) => ({
      spec,
      kind: "buildpack" as const,
    })),
    ...extensions.map((spec) => ({ spec, kind: "extension" as const })),
  ];
  if (wanted.length === 0) return undefined;
  const have = builderModules(builder);
  const refs = new Map<BuildpackSpec, BuildpackRef>();
  for (const { spec, kind } of wanted) refs.set(spec, await classifyModule(spec, kind, have));
  const sources = wanted.filter(({ spec }) => refs.get(spec)?.kind !== "builder");
  const read = sources.length ? await readSources(sources, refs, builder, opts) : undefined;
  const entries = (list: readonly BuildpackSpec[] | undefined) =>
    (list ?? []).flatMap((spec): OrderEntry[] => {
      const ref = refs.get(spec);
      return ref?.kind === "builder"
        ? [{ id: ref.id, version: ref.version }]
        : (read?.entries.get(spec) ?? []);
    });
  const order = chosenOrder(
    { order: groupsOf(builder.info.detectionOrder), extensions: groupsOf(builder.info.extensionOrder) },
    {
      pre: entries(choice.pre),
      group: entries(choice.group),
      post: entries(choice.post),
      extensions: entries(extensions),
    },
  );
  return {
    ...(order ? { order } : {}),
    dirs: read?.dirs.buildpack ?? [],
    extensionDirs: read?.dirs.extension ?? [],
    dispose: async () => {
      if (read) await rm(read.dir, { recursive: true, force: true });
    },
  };
}

/** The ids and versions of the builder's buildpacks and extensions. */
function builderModules(builder: ResolvedBuilder): BuilderModules {
  const extension: Record<string, Record<string, true>> = {};
  for (const e of builder.info.extensions) extension[e.id] = { ...extension[e.id], [e.version]: true };
  return { buildpack: builder.buildpackLayers, extension };
}

const groupsOf = (order: readonly DetectionGroup[]) =>
  order.map((g) => ({
    group: g.group.map((e) => ({ id: e.id, version: e.version ?? "", optional: e.optional })),
  }));

/** A spec that is not the builder's module: its modules are read. */
type SourceRef = Exclude<BuildpackRef, { kind: "builder" }>;

interface ReadSources {
  /** The temporary directory the modules were extracted into. */
  readonly dir: string;
  readonly dirs: Record<ModuleKind, ModuleDir[]>;
  /** What each spec puts in its group: the module, or a buildpackage's entry. */
  readonly entries: Map<BuildpackSpec, OrderEntry[]>;
}

/** Reads, checks and extracts the modules of the specs that are not the builder's; removes all on error. */
async function readSources(
  sources: readonly Wanted[],
  refs: ReadonlyMap<BuildpackSpec, BuildpackRef>,
  builder: ResolvedBuilder,
  opts: PrepareOptions,
): Promise<ReadSources> {
  await mkdir(opts.cacheRoot, { recursive: true });
  const dir = await mkdtemp(join(opts.cacheRoot, "buildpacks-"));
  const options = {
    registry: opts.registry,
    cacheDir: join(opts.cacheRoot, "layers"),
    tmpDir: opts.cacheRoot,
    platform: { os: builder.os, architecture: builder.arch },
  };
  try {
    return await withAuthoring(options, async (ctx) => {
      const set = new ModuleSet();
      const entries = new Map<BuildpackSpec, OrderEntry[]>();
      for (const { spec, kind } of sources) {
        const modules = await readModules(spec, kind, refs.get(spec) as SourceRef, ctx);
        for (const module of modules) {
          checkModule(spec, module, builder);
          const clash = set.add({ module, path: [] });
          if (clash) throw new CnbpError(codeOf(kind, "INVALID"), `${named(spec)}: ${clash}`);
        }
        entries.set(
          spec,
          entryModules(modules).map((m) => ({ id: m.info.id, version: m.info.version })),
        );
      }
      // a buildpack and an extension may share an id: each kind has its own directory
      return {
        dir,
        dirs: {
          buildpack: await extractModules(
            set.all("buildpack"),
            builder.buildpackLayers,
            join(dir, "buildpacks"),
          ),
          extension: await extractModules(set.all("extension"), {}, join(dir, "extensions")),
        },
        entries,
      };
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The modules of `kind` a source holds; its errors name the flag or field that gave it. */
async function readModules(
  spec: BuildpackSpec,
  kind: ModuleKind,
  ref: SourceRef,
  ctx: AuthoringContext,
): Promise<ResolvedModule[]> {
  let modules: ResolvedModule[];
  try {
    modules =
      ref.kind === "inline"
        ? [await inlineModule(ref.id, ref.script, spec.where, ctx)]
        : await resolveModules(ref.uri, ref.baseDir, kind, ctx);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    // a directory or archive with the other kind's descriptor instead
    const other =
      ref.kind === "source" && err.message.endsWith(`has no ${kind}.toml at its root`)
        ? await otherKindAt(ref, kind, ctx)
        : undefined;
    if (other) throw holds(spec, kind, other);
    // locate's messages start with the uri, which `named` gives already
    const prefix = `${JSON.stringify(given(spec))}: `;
    const why = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    throw new CnbpError(codeOf(kind, "NOT_FOUND"), `${named(spec)}: ${why}`, {
      hints: [
        kind === "buildpack"
          ? "give a buildpack directory or archive (with buildpack.toml), docker://<buildpackage>, or <id>@<version> of the builder's"
          : "give an extension directory or archive (with extension.toml), docker://<extension package>, or <id>@<version> of the builder's",
      ],
    });
  }
  const own = modules.filter((m) => m.kind === kind);
  // a package without a module of the kind has one of the other (it is no package otherwise)
  if (own.length === 0) throw holds(spec, kind, modules[0] as ResolvedModule);
  return own;
}

/** The module of the other kind a directory or archive holds, if it holds one. */
async function otherKindAt(
  ref: Extract<SourceRef, { kind: "source" }>,
  kind: ModuleKind,
  ctx: AuthoringContext,
): Promise<ResolvedModule | undefined> {
  try {
    return (await resolveModules(ref.uri, ref.baseDir, otherKind(kind), ctx))[0];
  } catch {
    return undefined;
  }
}

const holds = (spec: BuildpackSpec, kind: ModuleKind, other: ResolvedModule) =>
  moduleOfOtherKind(spec.where, given(spec), kind, `holds ${other.kind} ${moduleKey(other.info)}`);

const given = (spec: BuildpackSpec) => ("ref" in spec ? spec.ref : spec.id);

/** The flag or field and the value given, for messages: `--buildpack "./bp"`. */
const named = (spec: BuildpackSpec) => `${spec.where} ${JSON.stringify(given(spec))}`;

/** The module's API must be one the builder's lifecycle speaks, and its targets must admit the builder's. */
function checkModule(spec: BuildpackSpec, module: ResolvedModule, builder: ResolvedBuilder): void {
  const { kind } = module;
  const key = moduleKey(module.info);
  const { supported, deprecated } = builder.info.lifecycle.buildpackApis;
  const apis = [...supported, ...deprecated];
  if (!apiSupported(module.layerInfo.api, apis))
    throw new CnbpError(
      codeOf(kind, "API"),
      `${named(spec)}: ${kind} ${key} has Buildpack API ${module.layerInfo.api}, which the lifecycle of builder ${builder.name} does not support (it supports ${apis.join(", ") || "none"})`,
      {
        hints: [
          `use a version of the ${kind} for an API the builder's lifecycle supports, or a newer builder`,
        ],
      },
    );
  const targets = module.layerInfo.targets ?? [];
  const platform = { os: builder.os, architecture: builder.arch };
  if (targets.length > 0 && !targets.some((t) => fitsPlatform(t, platform)))
    throw new CnbpError(
      codeOf(kind, "TARGET"),
      `${named(spec)}: ${kind} ${key} runs on ${targets.map(showTarget).join(", ")}, not on builder ${builder.name}'s ${builder.os}/${builder.arch}`,
      { hints: [`use a builder for one of the ${kind}'s targets`] },
    );
}

/** The modules a source's order entry names: those no other module of it lists (a buildpackage's entry). */
function entryModules(modules: readonly ResolvedModule[]): ResolvedModule[] {
  const listed = new Set(
    modules.flatMap((m) => (m.layerInfo.order ?? []).flatMap((g) => g.group.map((e) => e.id))),
  );
  return modules.filter((m) => !listed.has(m.info.id));
}

/**
 * Extracts each module's layer into `dir` (`<escaped id>/<version>/`), once per layer, but those the builder
 * already holds as they are (`builderLayers`): the modes and root owner of the layer make them readable by
 * the build user.
 */
async function extractModules(
  modules: readonly ResolvedModule[],
  builderLayers: ModuleLayers,
  dir: string,
): Promise<ModuleDir[]> {
  const extracted = new Set<string>();
  const out: ModuleDir[] = [];
  for (const m of modules) {
    const { id, version } = m.info;
    if (builderLayers[id]?.[version]?.layerDiffID === m.layer.diffId) continue;
    if (!extracted.has(m.layer.diffId)) {
      await extractLayer(await openLayerBlob(m.layer), dir, {
        label: `${m.kind} ${id}@${version}`,
        strip: moduleRoot(m.kind),
      });
      extracted.add(m.layer.diffId);
    }
    out.push({ id, version, source: join(dir, escapeId(id), version) });
  }
  return out;
}

/** project.toml's inline buildpack as pack writes it: version 0.0.0, a detect that passes, the script as build. */
async function inlineModule(
  id: string,
  script: InlineScript,
  where: string,
  ctx: AuthoringContext,
): Promise<ResolvedModule> {
  const dir = ctx.scratch.path("inline");
  const shell = script.shell ?? "/bin/sh";
  await mkdir(join(dir, "bin"), { recursive: true });
  await writeFile(
    join(dir, "buildpack.toml"),
    `api = ${JSON.stringify(script.api)}\n[buildpack]\nid = ${JSON.stringify(id)}\nversion = "0.0.0"\n`,
  );
  await writeFile(join(dir, "bin", "detect"), `#!${shell}\nexit 0\n`);
  await writeFile(join(dir, "bin", "build"), `#!${shell}\n${script.inline}\n`);
  await chmod(join(dir, "bin", "detect"), 0o755);
  await chmod(join(dir, "bin", "build"), 0o755);
  return moduleFromDir(dir, "buildpack", where, ctx, false);
}
