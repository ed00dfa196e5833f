/**
 * The extension step of a build, done by the platform (shared/spec/extensions.md 7): after the detector,
 * read what the group's extensions generated; apply the build.Dockerfiles to the builder image, in whose
 * result the builder phase runs; switch the run image, or apply the run.Dockerfiles to it and hand the
 * exporter the result as the sparse layout `<layers>/extended/run/<digest>/`.
 *
 * A BuildDriver applies each Dockerfile. Every result is kept in its store under a tag made from what went
 * into it (the base image's id, the Dockerfile, its context, its args), so an unchanged rebuild finds it and
 * runs no Dockerfile step at all. Images move between the build driver's store and the runtime driver's only
 * when the two do not share one.
 */
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type {
  BindMount,
  BuildDriver,
  ImageStore,
  RuntimeDriver,
  StepIO,
  StoredImage,
  Workspace,
} from "../drivers/contract.js";
import { DriverError } from "../drivers/errors.js";
import { CnbpError } from "../errors.js";
import {
  cachedSparseRunImage,
  chainRebasable,
  type ExtensionDockerfile,
  extensionBuildArgs,
  type GeneratedPlan,
  readGenerated,
  writeSparseRunImage,
} from "../extensions/index.js";
import {
  type AnalyzedMetadata,
  analyzedToml,
  type GroupFile,
  groupToml,
  parseSpecOrThrow,
} from "../spec/index.js";
import { appFiles, appTar } from "./app-source.js";
import type { ResolvedBuilder } from "./builder.js";
import { EXTENDED_REPO, type ExtendedKind, keepOnlyUsed } from "./extended-images.js";
import { moveImage, sharesStore } from "./image-moves.js";
import { stageImage } from "./layout-repo.js";
import { PATHS, VOLUMES } from "./phases.js";
import type { Pull } from "./pulls.js";
import { treeDigest } from "./tree-digest.js";
import { copyOut } from "./volume-files.js";

/** Label of every extended image cnbp keeps: its kind, so `cnbp cache prune` can find them. */
export const EXTENDED_LABEL = "io.cnbp.extended";

export interface ExtendContext {
  readonly runtime: RuntimeDriver;
  readonly extender: BuildDriver;
  readonly workspace: Workspace;
  readonly builder: ResolvedBuilder;
  /** The app image: its builds keep only the extended images their last build used (./extended-images.ts). */
  readonly image: string;
  readonly appDir: string;
  /** The OCI layout repository the build exports into (store output); absent when publishing. */
  readonly layoutRepo?: string;
  /** Pulls per the build's policy, platform and credentials. */
  readonly pull: Pull;
  /** A host directory the step may fill; its owner removes it. */
  readonly scratch: string;
  /** cnbp's cache directory: sparse run layouts are kept in it between builds. */
  readonly cacheRoot: string;
  /** Where Dockerfile builds write, and the signal that cancels them. */
  readonly io: StepIO;
  /** Says what the step did (`[cnbp] ...` lines). */
  readonly note: (message: string) => void;
  /** Removals of extended images no longer used, under way: the build awaits them before it ends. */
  readonly removals: Promise<void>[];
}

/** What the extensions asked for, read after the detector. */
export interface Extensions {
  readonly plan: GeneratedPlan;
  /** The run image the build exports onto: analyzed.toml's after the detector (an extension may switch it). */
  readonly runImage: string;
  readonly switched: boolean;
  /** `[run-image] extend` in analyzed.toml: there are run.Dockerfiles to apply. */
  readonly extendRun: boolean;
  /**
   * Digests of the build contexts of the Dockerfiles to apply, each read once per build (build and run steps
   * often share one); all started when the extensions are read, so that the run contexts' are ready by the
   * time the build image is extended.
   */
  readonly contextDigests: ReadonlyMap<string, Promise<string>>;
}

/**
 * Copies `generated/`, group.toml and analyzed.toml out of the layers volume and reads them; every
 * Dockerfile is checked against the spec's rules before anything is built. A run image an extension
 * switched to must be for the builder's platform; in the store it is staged where the restorer looks.
 */
export async function readExtensions(ctx: ExtendContext, requestedRunImage: string): Promise<Extensions> {
  const dir = join(ctx.scratch, "layers");
  // side by side: each is a podman process with the Podman driver
  await Promise.all(
    ["/group.toml", "/analyzed.toml", "/generated"].map((path) =>
      copyOut(ctx.workspace, VOLUMES.layers, path, dir, { optional: path === "/generated" }),
    ),
  );
  const group = parseSpecOrThrow<GroupFile>(
    groupToml,
    await readFile(join(dir, "group.toml"), "utf8"),
    "group.toml",
  );
  const analyzed = parseSpecOrThrow<AnalyzedMetadata>(
    analyzedToml,
    await readFile(join(dir, "analyzed.toml"), "utf8"),
    "analyzed.toml",
  );
  const plan = await readGenerated({
    generatedDir: join(dir, "generated"),
    group,
    platformApi: ctx.builder.platformApi,
    appDir: ctx.appDir,
  });
  const runImage = analyzed["run-image"]?.image ?? requestedRunImage;
  const switched = runImage !== requestedRunImage;
  const extendRun = analyzed["run-image"]?.extend === true;
  if (switched) await reachSwitchedRunImage(ctx, runImage, plan);
  return {
    plan,
    runImage,
    switched,
    extendRun,
    contextDigests: digestContexts([...plan.build, ...(extendRun ? plan.run.filter((s) => s.extend) : [])]),
  };
}

function digestContexts(steps: readonly ExtensionDockerfile[]): Map<string, Promise<string>> {
  const digests = new Map<string, Promise<string>>();
  for (const { context } of steps) {
    if (digests.has(context)) continue;
    const digest = treeDigest(context);
    // a failure surfaces where the digest is awaited; this handler only keeps it from being "unhandled"
    // meanwhile (or for good, when a failed extension step ends the build first)
    digest.catch(() => {});
    digests.set(context, digest);
  }
  return digests;
}

/**
 * Applies the build.Dockerfiles to the builder image; resolves to the id (in the runtime driver's store) of
 * the image the builder phase runs in, or undefined when no extension extends the build image.
 */
export async function extendBuildImage(ctx: ExtendContext, ext: Extensions): Promise<string | undefined> {
  if (ext.plan.build.length === 0) return undefined;
  const base = await inExtenderStore(ctx, ctx.builder.name, ctx.builder.id);
  const chain = await applyChain(ctx, ext, "build", ext.plan.build, base);
  await keepExtendedImages(ctx, ctx.extender.name, lookups(ctx), "build", chain.tags);
  if (sharesStore(ctx.runtime, ctx.extender)) return chain.image.id;
  const moved = await moveImage(ctx.extender.images, ctx.runtime.images, chain.ref, chain.ref, ctx.scratch);
  await keepExtendedImages(ctx, ctx.runtime.name, ctx.runtime.images, "build", [chain.ref]);
  return moved.id;
}

/** What extending the run image gave the exporter. */
export interface ExtendedRun {
  /** Whether the app image stays rebasable. */
  readonly rebasable: boolean;
  /** The sparse layout, to mount into the exporter's container; absent when it was put into the volume. */
  readonly mount?: BindMount;
}

/**
 * Applies the run.Dockerfiles to the run image and hands the result, as the exporter takes it, to the
 * exporter: a bind mount of the sparse layout kept in the cache, or, where the runtime driver mounts no host
 * directory, a copy put into the layers volume. Resolves to undefined when nothing was applied.
 */
export async function extendRunImage(ctx: ExtendContext, ext: Extensions): Promise<ExtendedRun | undefined> {
  const steps = ext.plan.run.filter((s) => s.extend);
  if (!ext.extendRun || steps.length === 0) return undefined;
  const base = ctx.layoutRepo
    ? await inExtenderStore(
        ctx,
        ext.runImage,
        (await ctx.runtime.images.pull(ext.runImage, { policy: "never" })).id,
      )
    : { ref: ext.runImage, image: await pullInto(ctx, ctx.extender, ext.runImage) };
  const chain = await applyChain(ctx, ext, "run", steps, base);
  await keepExtendedImages(ctx, ctx.extender.name, lookups(ctx), "run", chain.tags);
  const rebasable = chainRebasable(chain.labels);
  const sparse = { baseLayerCount: base.image.diffIds.length, addedBy: chain.addedBy, rebasable };
  const key = createHash("sha256")
    .update(JSON.stringify({ id: chain.image.id, ...sparse }))
    .digest("hex")
    .slice(0, 24);
  const cached = await cachedSparseRunImage(join(ctx.cacheRoot, "extended-run"), key, async (outDir) => {
    // exported beside the entry, so that its blobs are hard-linked into the entry rather than copied
    const layout = join(outDir, "..", `${basename(outDir)}-export`);
    try {
      await ctx.extender.images.exportOciLayout(chain.image.id, layout, { name: "extended" });
      return await writeSparseRunImage({ extendedLayout: layout, image: "extended", ...sparse, outDir });
    } finally {
      await rm(layout, { recursive: true, force: true });
    }
  });
  if (cached.reused) ctx.note(`extended run image unchanged, reusing its layout for the exporter`);
  // the entry holding the one `<digest>` dir is mounted as `<extended>/run`: engines' `-v` syntax takes
  // no ':' in paths, and a digest has one
  if (ctx.runtime.capabilities.bindMounts) {
    const target = `${PATHS.layers}/extended/run`;
    return { rebasable, mount: { type: "bind", source: dirname(cached.dir), target, readOnly: true } };
  }
  const files = await appFiles(cached.dir);
  await ctx.workspace.put(
    VOLUMES.layers,
    `/extended/run/${basename(cached.dir)}`,
    appTar(cached.dir, files, { uid: 0, gid: 0 }),
  );
  return { rebasable };
}

interface Current {
  /** How the build driver's store names it. */
  readonly ref: string;
  readonly image: StoredImage;
}

interface Chain extends Current {
  /** cnbp's tags the chain used: each Dockerfile's result, and the base when cnbp moved it into the store. */
  readonly tags: readonly string[];
  /** The extension that added each layer above the base, in order. */
  readonly addedBy: readonly string[];
  /** Each Dockerfile's result's labels, in order. */
  readonly labels: readonly Readonly<Record<string, string>>[];
}

/** Applies `steps` one on the other, from `base`; a step whose key the store already has is not run. */
async function applyChain(
  ctx: ExtendContext,
  ext: Extensions,
  kind: "build" | "run",
  steps: readonly ExtensionDockerfile[],
  base: Current,
): Promise<Chain> {
  let current = base;
  const tags = base.ref.startsWith(`${EXTENDED_REPO}/`) ? [base.ref] : [];
  const addedBy: string[] = [];
  const labels: Readonly<Record<string, string>>[] = [];
  for (const step of steps) {
    const args = extensionBuildArgs(step, {
      image: current.ref,
      ...(current.image.user ? { user: current.image.user } : {}),
    });
    const tag = `${EXTENDED_REPO}/${kind}:${await stepKey(step, current.image.id, args, ext.contextDigests)}`;
    let image = await lookups(ctx).inspect(tag);
    if (image) ctx.note(`extension ${step.extensionId}: ${kind}.Dockerfile unchanged, reusing ${tag}`);
    else {
      ctx.note(`extension ${step.extensionId}: applying ${kind}.Dockerfile to ${current.ref}`);
      await runBuild(ctx, {
        dockerfile: step.dockerfile,
        context: step.context,
        buildArgs: args,
        baseImage: current.ref,
        tag,
        pull: "never",
        labels: { [EXTENDED_LABEL]: kind },
        // the result is kept whole under its key: a commit per step would only slow a cold build
        stepCache: false,
      });
      image = await lookups(ctx).inspect(tag);
      if (!image)
        throw new CnbpError(
          "CNBP_BUILD_FAILED",
          `driver ${ctx.extender.name} built ${tag} but its store has no such image`,
        );
    }
    tags.push(tag);
    const added = image.diffIds.length - current.image.diffIds.length;
    for (let i = 0; i < added; i++) addedBy.push(step.extensionId);
    labels.push(image.labels);
    current = { ref: tag, image };
  }
  return { ...current, tags, addedBy, labels };
}

async function runBuild(ctx: ExtendContext, req: Parameters<BuildDriver["build"]>[0]): Promise<void> {
  try {
    await ctx.extender.build(req, ctx.io);
  } catch (err) {
    if (err instanceof DriverError && err.code === "CNBP_CANCELLED")
      throw new CnbpError("CNBP_CANCELLED", "build cancelled while extensions' Dockerfiles were applied", {
        cause: err,
      });
    throw err;
  }
}

/** The cache key of one Dockerfile's result: everything that goes into it but the per-build `build_id`. */
async function stepKey(
  step: ExtensionDockerfile,
  baseId: string,
  args: Readonly<Record<string, string>>,
  contextDigests: ReadonlyMap<string, Promise<string>>,
) {
  const context = contextDigests.get(step.context) ?? treeDigest(step.context);
  const hash = createHash("sha256");
  hash.update(`${baseId}\n${await readFile(step.dockerfile)}\n${await context}\n`);
  for (const [name, value] of Object.entries(args).sort(([a], [b]) => a.localeCompare(b)))
    if (name !== "build_id" && name !== "base_image") hash.update(`${name}=${value}\n`);
  return hash.digest("hex").slice(0, 24);
}

/**
 * Records `used` as the app image's extended images of `kind` in `driver`'s store (reached through `images`);
 * the removal of those it no longer uses goes on beside the build (`ctx.removals`).
 */
async function keepExtendedImages(
  ctx: ExtendContext,
  driver: string,
  images: ImageStore,
  kind: ExtendedKind,
  used: readonly string[],
): Promise<void> {
  const of = { cacheRoot: ctx.cacheRoot, driver, images, image: ctx.image };
  ctx.removals.push((await keepOnlyUsed(of, kind, used)).removing);
}

/**
 * Where the build driver's images are looked up: in a store the runtime driver shares, through the runtime
 * driver, which answers from a service (Podman's API) where Buildah starts two processes per look-up.
 */
function lookups(ctx: ExtendContext) {
  return sharesStore(ctx.runtime, ctx.extender) ? ctx.runtime.images : ctx.extender.images;
}

/** The runtime store's image `ref` (id `id`) as the build driver's store names it, moved there if needed. */
async function inExtenderStore(ctx: ExtendContext, ref: string, id: string): Promise<Current> {
  if (sharesStore(ctx.runtime, ctx.extender)) {
    const image = await lookups(ctx).inspect(id);
    if (image) return { ref, image };
  }
  const tag = `${EXTENDED_REPO}/base:${id.replace(/^sha256:/, "").slice(0, 24)}`;
  const image =
    (await ctx.extender.images.inspect(tag)) ??
    (await moveImage(ctx.runtime.images, ctx.extender.images, id, tag, ctx.scratch));
  return { ref: tag, image };
}

async function pullInto(ctx: ExtendContext, driver: BuildDriver | RuntimeDriver, ref: string) {
  try {
    return await ctx.pull(driver.images, ref);
  } catch (err) {
    if (err instanceof DriverError && err.code === "CNBP_IMAGE_NOT_FOUND")
      throw new CnbpError(
        "CNBP_RUN_IMAGE_NOT_FOUND",
        `run image ${ref}, chosen by an extension, was not found (${err.message})`,
        {
          hints: ["check the FROM line of the extension's run.Dockerfile"],
          cause: err,
        },
      );
    throw err;
  }
}

/** The switched run image must run where the builder builds; in the store it is staged for the restorer. */
async function reachSwitchedRunImage(ctx: ExtendContext, ref: string, plan: GeneratedPlan): Promise<void> {
  if (!ctx.layoutRepo) return;
  const stored = await pullInto(ctx, ctx.runtime, ref);
  const { os, arch } = ctx.builder;
  if (stored.os !== os || stored.arch !== arch) {
    const by = plan.run.find((s) => s.switchTo === ref)?.extensionId ?? "an extension";
    throw new CnbpError(
      "CNBP_RUN_IMAGE_TARGET",
      `run image ${ref}, chosen by extension ${by}, is for ${stored.os}/${stored.arch}, but builder ${ctx.builder.name} builds for ${os}/${arch}`,
      { hints: [`make the extension switch to a run image for ${os}/${arch}`] },
    );
  }
  await stageImage(ctx.runtime.images, stored, ref, ctx.layoutRepo);
}
