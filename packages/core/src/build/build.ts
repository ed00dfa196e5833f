/**
 * One `cnbp build`: DESIGN.md "The build, as data flows". Resolve the builder and run image on the runtime
 * driver, prepare a workspace (layers, app, platform and cache volumes), run the lifecycle's phases in
 * containers of the builder, then deliver: the exporter pushes (`--publish`) or writes an OCI layout that cnbp
 * imports into the driver's store. The workspace is disposed whatever happens; the cache volume stays.
 */
import { createHash } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pack } from "tar-stream";
import { cacheVolumeLabels } from "../cache/labels.js";
import type {
  BindMount,
  BuildDriver,
  NetworkMode,
  OutputSink,
  PullPolicy,
  RuntimeDriver,
  StoredImage,
} from "../drivers/contract.js";
import { DriverError } from "../drivers/errors.js";
import { CnbpError, UsageError } from "../errors.js";
import { parseReference, RegistryClient, referenceName } from "../image/index.js";
import type { Keychain } from "../image/registry/keychain.js";
import { type OrderFile, orderToml, serializeSpec } from "../spec/index.js";
import { type AppFilter, appFiles, appTar } from "./app-source.js";
import { type ResolvedBuilder, resolveBuilder } from "./builder.js";
import type { BuildpackSpec } from "./buildpack-refs.js";
import {
  type ExtendContext,
  type Extensions,
  extendBuildImage,
  extendRunImage,
  readExtensions,
} from "./extend.js";
import { type BuildpackChoice, type PreparedBuildpacks, prepareBuildpacks } from "./extra-buildpacks.js";
import { sharesStore } from "./image-moves.js";
import { canonical, importExported, layoutRepoDir, stageImage } from "./layout-repo.js";
import { type ResolvedLifecycleImage, resolveLifecycleImage } from "./lifecycle-image.js";
import { PhaseClock, type PhaseTiming } from "./phase-clock.js";
import { phaseFailed } from "./phase-errors.js";
import { PATHS, type PhaseName, phasePlan, VOLUMES } from "./phases.js";
import { type Pull, puller } from "./pulls.js";

export interface BuildRequest {
  /** The app image to make. */
  readonly image: string;
  readonly appDir: string;
  readonly appFilter?: AppFilter;
  readonly builder: string;
  /** `--lifecycle-image`: the analyzer, restorer and exporter run in it rather than in the builder. */
  readonly lifecycleImage?: string;
  /** `--workspace`: where the phases see the app; default PATHS.app. */
  readonly workspaceDir?: string;
  /** `--platform os/arch[/variant]`: the builder's and run image's platform; default the engine's. */
  readonly platform?: string;
  /** `--run-image`; default the builder's run image. */
  readonly runImage?: string;
  readonly tags?: readonly string[];
  /** Push to the registry instead of the driver's store. */
  readonly publish?: boolean;
  /** Run the creator, which gives the builder's buildpacks the same container as registry credentials. */
  readonly trustBuilder?: boolean;
  readonly pullPolicy?: PullPolicy;
  /**
   * Buildpacks besides the builder's (`--buildpack`, project.toml's group, pre and post): mounted into the
   * phases and ordered with an order.toml, the builder image left as it is.
   */
  readonly buildpacks?: BuildpackChoice;
  /**
   * Image extensions (`--extension`), as one group that replaces the builder's extension order: mounted into
   * the detector, and their Dockerfiles applied as a builder's extensions' are.
   */
  readonly extensions?: readonly BuildpackSpec[];
  /** Credentials for the driver's pulls (the Docker config and its helpers); anonymous pulls without it. */
  readonly keychain?: Keychain;
  /** Reads `docker://` buildpackages; default one with the Docker config's credentials. */
  readonly registry?: RegistryClient;
  /** Build-time environment for buildpacks (`/platform/env`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly network?: NetworkMode;
  readonly clearCache?: boolean;
  /** Name of the cache volume; default one keyed by the image and the app directory. */
  readonly cacheVolume?: string;
  readonly cacheImage?: string;
  readonly defaultProcess?: string;
  /** Host directories mounted into the buildpacks' phases (`--volume`). */
  readonly volumes?: readonly BindMount[];
  readonly insecureRegistries?: readonly string[];
  /** CNB_REGISTRY_AUTH for the registry phases. */
  readonly registryAuth?: string;
  /** Where cnbp keeps layout repositories (the XDG cache dir). */
  readonly cacheRoot: string;
  /**
   * Applies the Dockerfiles of the builder's image extensions (`--extend-driver`); default the runtime driver
   * when it is a build driver too.
   */
  readonly extender?: BuildDriver;
  readonly signal?: AbortSignal;
}

export interface BuildOutput {
  /** The lifecycle's stdout and stderr, as they come. */
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  /** A phase began or ended (ends carry the seconds it took). */
  phase(timing: PhaseTiming): void;
  /** What cnbp itself did on the way, e.g. reusing an extended image: one line each. */
  note(message: string): void;
}

export interface BuildReport {
  readonly image: string;
  readonly tags: readonly string[];
  /** `sha256:` of the image's config: its id in the driver's store, or in the registry. */
  readonly id?: string;
  /** The manifest digest the registry holds, when published. */
  readonly digest?: string;
  readonly published: boolean;
  readonly builder: string;
  /** The run image the app image is based on: the requested one, or the one an extension switched to. */
  readonly runImage: string;
  /** What image extensions did: extended the build image, the run image, and whether it stays rebasable. */
  readonly extended?: { readonly build: boolean; readonly run: boolean; readonly rebasable?: boolean };
  readonly platformApi: string;
  readonly driver: string;
  readonly cacheVolume: string;
  readonly phases: readonly { readonly phase: string; readonly seconds: number }[];
  /**
   * Seconds from start to end, and how many of them phase containers took (each from `Workspace.run`'s call to
   * its exit code; a removal the driver does later, awaited when the workspace is disposed, is not in it).
   */
  readonly seconds: number;
  readonly containerSeconds: number;
}

export async function build(
  driver: RuntimeDriver,
  request: BuildRequest,
  out: BuildOutput,
): Promise<BuildReport> {
  const started = performance.now();
  // a driver whose images live only in registries (a cluster) has no store to leave the image in
  const req = !request.publish && driver.capabilities.registryOnly ? { ...request, publish: true } : request;
  if (req !== request)
    out.note(`driver ${driver.name} keeps images in registries only: publishing ${req.image}`);
  const policy = req.pullPolicy ?? "if-not-present";
  if (req.workspaceDir) checkWorkspaceDir(req.workspaceDir);
  const files = await appFiles(req.appDir, req.appFilter);
  if (req.publish) await checkCanPush(req.registry ?? new RegistryClient(), req.image);
  const pull = puller({
    policy,
    ...(req.platform ? { platform: req.platform } : {}),
    ...(req.keychain ? { keychain: req.keychain } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    note: (m) => out.note(m),
  });
  const resolved = await resolveBuilder(driver.images, req.builder, pull, {
    policy,
    ...(req.platform ? { platform: req.platform } : {}),
  });
  const lifecycle = req.lifecycleImage
    ? await resolveLifecycleImage(driver.images, req.lifecycleImage, pull, resolved)
    : undefined;
  const builder = lifecycle ? { ...resolved, platformApi: lifecycle.platformApi } : resolved;
  const runImage = req.runImage ?? defaultRunImage(builder);
  const extra = await prepareBuildpacks(req.buildpacks ?? {}, req.extensions ?? [], builder, {
    registry: req.registry ?? new RegistryClient(),
    cacheRoot: req.cacheRoot,
  });
  try {
    return await buildWith(driver, req, out, { started, files, pull, builder, lifecycle, runImage, extra });
  } finally {
    await extra?.dispose();
  }
}

async function buildWith(
  driver: RuntimeDriver,
  req: BuildRequest,
  out: BuildOutput,
  { started, files, pull, builder, lifecycle, runImage, extra }: Resolved,
): Promise<BuildReport> {
  const publish = req.publish ?? false;
  const tags = req.tags ?? [];
  const extender = extenderFor(driver, req, builder, extra);
  if (extender && req.trustBuilder)
    out.note(
      `${withExtensions(req, builder)}: its phases run one by one (the creator cannot apply Dockerfiles)`,
    );
  else if (lifecycle && req.trustBuilder)
    out.note(
      "with --lifecycle-image the phases run one by one: the creator would run the builder's lifecycle",
    );
  if ((extra?.dirs.length || extra?.extensionDirs.length) && !driver.capabilities.bindMounts)
    throw new CnbpError(
      "CNBP_UNSUPPORTED",
      `driver ${driver.name} cannot mount buildpacks or extensions into the build's containers`,
      {
        hints: ["add them to a builder with `cnbp builder create`, and build with that"],
      },
    );
  if (!publish) {
    // the image reaches the store through an OCI layout the exporter writes into a bind-mounted directory
    const { bindMounts, ociLayoutImport, ociLayoutExport } = driver.capabilities;
    const lacks = !bindMounts
      ? "it cannot mount a host directory"
      : !ociLayoutImport || !ociLayoutExport
        ? "it cannot import OCI layouts"
        : undefined;
    if (lacks)
      throw new CnbpError(
        "CNBP_UNSUPPORTED",
        `driver ${driver.name} cannot put images into an image store of its own (${lacks})`,
        { hints: ["build with --publish to push the image to a registry"] },
      );
  }
  const cacheVolume = req.cacheVolume ?? (await cacheVolumeName(req.image, req.appDir));
  // the volumes are made while the run image is staged; either failing undoes the other
  const making = driver.workspace({
    buildId: `b${Date.now().toString(36)}${process.pid.toString(36)}`,
    // no volume owners: the app tar owns its root, and the lifecycle's root phases chown layers and cache
    volumes: [
      { name: VOLUMES.layers },
      { name: VOLUMES.app },
      { name: VOLUMES.platform },
      {
        name: VOLUMES.cache,
        persistentName: cacheVolume,
        labels: await cacheVolumeLabels(req.image, req.appDir),
      },
    ],
    labels: { "io.cnbp.image": canonical(req.image) },
  });
  const staging = (async () => {
    if (publish) return undefined;
    const run = await pullRunImage(driver, runImage, pull, builder);
    const repo = layoutRepoDir(req.cacheRoot, driver.name, req.image);
    await stageImage(driver.images, run, runImage, repo);
    return repo;
  })();
  const [made, staged] = await Promise.allSettled([making, staging]);
  if (made.status === "rejected" || staged.status === "rejected") {
    if (made.status === "fulfilled") await made.value.dispose();
    throw made.status === "rejected" ? made.reason : (staged as PromiseRejectedResult).reason;
  }
  const workspace = made.value;
  let scratch: string | undefined;
  /** Extended images the build no longer uses, being removed (extend.ts). */
  const removals: Promise<void>[] = [];
  const layoutRepo = staged.value;
  const timings: { phase: string; seconds: number }[] = [];
  let containerSeconds = 0;
  try {
    await Promise.all([
      workspace.put(VOLUMES.app, "/", appTar(req.appDir, files, builder)),
      Object.keys(req.env ?? {}).length > 0 &&
        workspace.put(VOLUMES.platform, "/", platformTar(req.env ?? {})),
      extra?.order && workspace.put(VOLUMES.layers, "/", orderTar(extra.order)),
    ]);
    const steps = phasePlan({
      builderImage: builder.id,
      platformApi: builder.platformApi,
      uid: builder.uid,
      gid: builder.gid,
      image: req.image,
      tags,
      runImage,
      output: layoutRepo ? { kind: "layout", layoutRepo } : { kind: "registry" },
      creator: (req.trustBuilder ?? false) && !extender && !lifecycle,
      ...(lifecycle ? { lifecycleImage: lifecycle.id } : {}),
      ...(req.workspaceDir ? { appDir: req.workspaceDir } : {}),
      clearCache: req.clearCache ?? false,
      ...(req.cacheImage ? { cacheImage: req.cacheImage } : {}),
      ...(req.defaultProcess ? { defaultProcess: req.defaultProcess } : {}),
      ...(req.network ? { network: req.network } : {}),
      ...(req.registryAuth ? { registryAuth: req.registryAuth } : {}),
      ...(req.insecureRegistries ? { insecureRegistries: req.insecureRegistries } : {}),
      ...(req.volumes ? { userMounts: req.volumes } : {}),
      ...(extra?.dirs.length ? { buildpackDirs: extra.dirs } : {}),
      ...(extra?.extensionDirs.length ? { extensionDirs: extra.extensionDirs } : {}),
      ...(extra?.order ? { orderPath: PATHS.order } : {}),
    });
    if (extender) scratch = await mkdtemp(join(tmpdir(), "cnbp-extend-"));
    const ctx: ExtendContext | undefined =
      extender && scratch
        ? {
            runtime: driver,
            extender,
            workspace,
            builder,
            image: req.image,
            appDir: req.appDir,
            ...(layoutRepo ? { layoutRepo } : {}),
            pull,
            scratch,
            cacheRoot: req.cacheRoot,
            io: { stdout: out.stdout, stderr: out.stderr, ...(req.signal ? { signal: req.signal } : {}) },
            note: (m) => out.note(m),
            removals,
          }
        : undefined;
    let extensions: Extensions | undefined;
    let extended: BuildReport["extended"];
    /** Times a step cnbp does itself between phases as the phase `name`. */
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const clock = new PhaseClock(name, (t) => {
        if (t.seconds !== undefined) timings.push({ phase: t.phase, seconds: t.seconds });
        out.phase(t);
      });
      try {
        return await work();
      } finally {
        clock.end();
      }
    };
    for (const planned of steps) {
      const { phase } = planned;
      let { step } = planned;
      if (ctx && extensions && phase === "builder" && extensions.plan.build.length > 0) {
        const from = extensions;
        const image = await timed("extend", () => extendBuildImage(ctx, from));
        if (image) step = { ...step, image };
        extended = { build: true, run: false };
      }
      if (ctx && extensions && phase === "exporter" && extensions.extendRun) {
        const from = extensions;
        const run = await timed("extend", () => extendRunImage(ctx, from));
        if (run?.mount) step = { ...step, mounts: [...(step.mounts ?? []), run.mount] };
        extended = {
          build: extended?.build ?? false,
          run: run !== undefined,
          ...(run ? { rebasable: run.rebasable } : {}),
        };
      }
      const clock = new PhaseClock(phase, (t) => {
        if (t.seconds !== undefined) timings.push({ phase: t.phase, seconds: t.seconds });
        out.phase(t);
      });
      let exitCode: number;
      const since = performance.now();
      try {
        ({ exitCode } = await workspace.run(step, {
          stdout: clock.watch(out.stdout),
          stderr: out.stderr,
          ...(req.signal ? { signal: req.signal } : {}),
        }));
      } catch (err) {
        if (err instanceof DriverError && err.code === "CNBP_CANCELLED")
          throw new CnbpError("CNBP_CANCELLED", `build cancelled in the ${phase} phase`, { cause: err });
        throw err;
      } finally {
        clock.end();
        containerSeconds += (performance.now() - since) / 1000;
      }
      if (exitCode !== 0) throw phaseFailed(phase as PhaseName, exitCode);
      if (ctx && phase === "detector") extensions = await readExtensions(ctx, runImage);
    }
    // the volumes go while the image is imported: nothing reads them any more
    const [stored] = await Promise.all([
      layoutRepo ? importExported(driver.images, layoutRepo, req.image, tags) : undefined,
      workspace.dispose(),
      ...removals,
    ]);
    return {
      image: req.image,
      tags,
      ...(stored ? { id: stored.id } : {}),
      published: publish,
      builder: req.builder,
      runImage: extensions?.runImage ?? runImage,
      ...(extended ? { extended } : {}),
      platformApi: builder.platformApi,
      driver: driver.name,
      cacheVolume,
      phases: timings,
      seconds: (performance.now() - started) / 1000,
      containerSeconds,
    };
  } finally {
    await workspace.dispose();
    // never rejects; after a failed build too, the images it no longer uses go
    await Promise.all(removals);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The build driver that applies the extensions' Dockerfiles, or undefined when the detector has no extension
 * order (the builder's, or the one `--extension`s make); a build with extensions needs one.
 */
function extenderFor(
  driver: RuntimeDriver,
  req: BuildRequest,
  builder: ResolvedBuilder,
  extra: PreparedBuildpacks | undefined,
): BuildDriver | undefined {
  const order = extra?.order ? (extra.order["order-extensions"] ?? []) : builder.info.extensionOrder;
  if (order.length === 0) return undefined;
  const extender = req.extender ?? (isBuildDriver(driver) ? driver : undefined);
  // extended images reach the runtime driver in a store they share or as OCI layouts: a registry-only driver
  // (Kubernetes) takes neither, whichever driver applies the Dockerfiles
  if (driver.capabilities.registryOnly && !(extender && sharesStore(driver, extender)))
    throw new CnbpError(
      "CNBP_UNSUPPORTED",
      `${withExtensions(req, builder)}, and driver ${driver.name} ${
        extender ? `cannot run the images --extend-driver ${extender.name} makes` : "cannot apply Dockerfiles"
      }: it takes images only from registries`,
      { hints: ["build with --driver podman or --driver docker, which apply the Dockerfiles themselves"] },
    );
  if (!extender)
    throw new CnbpError(
      "CNBP_UNSUPPORTED",
      `${withExtensions(req, builder)}, and driver ${driver.name} cannot apply Dockerfiles`,
      { hints: ["choose a build driver with --extend-driver (e.g. buildah, podman or docker)"] },
    );
  return extender;
}

/** Whose extensions a build runs, for messages. */
const withExtensions = (req: BuildRequest, builder: ResolvedBuilder) =>
  req.extensions?.length
    ? "the build has image extensions (--extension)"
    : `builder ${builder.name} has image extensions`;

const isBuildDriver = (d: RuntimeDriver): d is RuntimeDriver & BuildDriver =>
  typeof (d as Partial<BuildDriver>).build === "function";

/** What a build knows before it makes anything. */
interface Resolved {
  readonly started: number;
  readonly files: readonly string[];
  readonly pull: Pull;
  readonly builder: ResolvedBuilder;
  readonly lifecycle: ResolvedLifecycleImage | undefined;
  readonly runImage: string;
  readonly extra: PreparedBuildpacks | undefined;
}

/** Publishing: the user learns that the registry refuses the image before the build, not after it. */
async function checkCanPush(registry: RegistryClient, image: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await registry.checkWriteAccess(parseReference(image));
  } catch (err) {
    throw new CnbpError(
      "CNBP_REGISTRY_UNREACHABLE",
      `cannot reach the registry of ${image}: ${(err as Error).message}`,
      {
        hints: [
          "check the image name and that its registry is up",
          "without --publish the image goes to the driver's image store",
        ],
        cause: err,
      },
    );
  }
  if (!ok)
    throw new CnbpError(
      "CNBP_REGISTRY_DENIED",
      `the registry refuses pushes to ${referenceName(parseReference(image))}`,
      {
        hints: [
          "log in to it (cnbp reads your docker config and credential helpers), or choose a repository you may push to",
        ],
      },
    );
}

function defaultRunImage(builder: ResolvedBuilder): string {
  const first = builder.info.runImages[0];
  if (!first)
    throw new CnbpError("CNBP_BUILDER_INVALID", `builder ${builder.name} names no run image`, {
      hints: ["give one with --run-image"],
    });
  return first.image;
}

async function pullRunImage(
  driver: RuntimeDriver,
  ref: string,
  pull: Pull,
  builder: ResolvedBuilder,
): Promise<StoredImage> {
  let run: StoredImage;
  try {
    run = await pull(driver.images, ref);
  } catch (err) {
    if (err instanceof DriverError && err.code === "CNBP_IMAGE_NOT_FOUND")
      throw new CnbpError("CNBP_RUN_IMAGE_NOT_FOUND", `run image ${ref} was not found (${err.message})`, {
        hints: ["check --run-image, or the run images the builder names (`cnbp builder inspect`)"],
        cause: err,
      });
    throw err;
  }
  if (run.os !== builder.os || run.arch !== builder.arch)
    throw new CnbpError(
      "CNBP_RUN_IMAGE_TARGET",
      `run image ${ref} is for ${run.os}/${run.arch}, but builder ${builder.name} builds for ${builder.os}/${builder.arch}`,
      { hints: ["choose a run image for the builder's platform with --run-image"] },
    );
  return run;
}

/** Paths the phases use for themselves, which the app may not take. */
const RESERVED = ["/cnb", PATHS.layers, PATHS.platform, PATHS.cache, PATHS.layoutRepo];

function checkWorkspaceDir(dir: string): void {
  const normal = posix.normalize(dir).replace(/\/+$/, "");
  const clash = RESERVED.find(
    (r) => normal === r || normal.startsWith(`${r}/`) || r.startsWith(`${normal}/`),
  );
  if (!posix.isAbsolute(dir) || normal === "" || clash)
    throw new UsageError(
      `build: --workspace ${dir}: ${!posix.isAbsolute(dir) ? "is not an absolute path" : `takes a directory the lifecycle uses (${clash ?? "/"})`}`,
      { hints: ["give an absolute directory of its own, e.g. --workspace /app (default /workspace)"] },
    );
}

/** `cnbp-cache-<image name>-<hash of the image and the app dir>`: two projects never share one by accident. */
async function cacheVolumeName(image: string, appDir: string): Promise<string> {
  const key = createHash("sha256")
    .update(`${canonical(image)}\n${await realpath(appDir)}`)
    .digest("hex")
    .slice(0, 12);
  const name = basename(canonical(image).replace(/[:@].*$/, "")).replace(/[^a-zA-Z0-9_.-]/g, "-");
  return `cnbp-cache-${name}-${key}`;
}

/** `/platform/env/<NAME>` files, one per build-time variable (platform.md 3.1). */
function platformTar(env: Readonly<Record<string, string>>): Readable {
  const tar = pack();
  tar.entry({ name: "env", type: "directory", mode: 0o755 });
  for (const [name, value] of Object.entries(env)) tar.entry({ name: `env/${name}`, mode: 0o644 }, value);
  tar.finalize();
  return tar as unknown as Readable;
}

/** The chosen order as `order.toml` at the root of the layers volume (PATHS.order). */
function orderTar(order: OrderFile): Readable {
  const tar = pack();
  tar.entry({ name: "order.toml", mode: 0o644 }, serializeSpec(orderToml, order));
  tar.finalize();
  return tar as unknown as Readable;
}
