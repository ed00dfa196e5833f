/**
 * exporter (shared/spec/platform.md 4.6): puts the buildpacks' launch layers, the app, the launcher and its
 * config on the run image recorded in analyzed.toml, reusing what the previous image has, and writes the app
 * image to a registry (or to OCI layouts in layout mode) under every name given, then report.toml; then
 * writes the cache (directory or image) when one is given, after the image or beside it with -parallel. A
 * cache that cannot be written is a warning, not a failed export. A run image extended by extensions is
 * built on as a whole (../export/base-image.ts), in registry and layout mode alike (Go: registry only).
 * The daemon is not supported yet.
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { SourceImage } from "@cnbp/core";
import {
  apiAtLeast,
  CnbpError,
  DockerKeychain,
  type ImageWriter,
  LayoutImageWriter,
  layerMtime,
  MediaType,
  parseReference,
  RegistryBackend,
  RegistryClient,
  RegistryImageWriter,
  reportToml,
  type SavedImage,
  serializeSpec,
} from "@cnbp/core";
import { type CommitResult, type LayerCache, openCache } from "../cache/index.js";
import type { FlagSpec } from "../cli/flags.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { assembleLayers, layerMediaTypeFor } from "../export/assemble.js";
import { extendedBase, runImageBase } from "../export/base-image.js";
import { writeCache } from "../export/cache-writer.js";
import { readExportFiles } from "../export/files.js";
import { appImageConfig, entrypointFor } from "../export/image-config.js";
import { appLabels } from "../export/labels.js";
import { LayerFactory } from "../export/layer-factory.js";
import { copyLifecycleSboms } from "../export/lifecycle-layers.js";
import { openRecorded } from "../export/recorded-images.js";
import type { Log } from "../log.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { dropPrivileges, ensureOwner } from "../platform/privileges.js";
import { LIFECYCLE_VERSION } from "../version.js";
import { startPhase } from "./start.js";

/** The version the build metadata label gives for the launcher (the lifecycle's). */

export const EXPORTER_FLAGS: readonly FlagSpec[] = [
  ...[
    "analyzed",
    "app",
    "cache-dir",
    "cache-image",
    "gid",
    "group",
    "launch-cache",
    "launcher",
    "layers",
    "log-level",
    "process-type",
    "project-metadata",
    "report",
    "uid",
    // defined only to be refused with a clear message, as the Go lifecycle does
    "run-image",
    "image",
  ].map((name) => ({ name, kind: "string" }) as const),
  { name: "daemon", kind: "bool" },
  { name: "no-color", kind: "bool" },
  { name: "parallel", kind: "bool" },
  { name: "launcher-sbom", kind: "string", since: "0.11" },
  { name: "extended", kind: "string", since: "0.12" },
  { name: "layout", kind: "bool", since: "0.12" },
  { name: "layout-dir", kind: "string", since: "0.12" },
  { name: "run", kind: "string", since: "0.12" },
  { name: "insecure-registry", kind: "list", since: "0.13" },
];

/** What was exported: the report, and per layer where it came from and what was sent. */
export interface ExportResult {
  readonly digest: string;
  readonly manifestSize: number;
  readonly tags: readonly string[];
  /** The layers the export put above its base (the run image, or the extended run image), in order. */
  readonly layers: readonly {
    readonly id: string;
    readonly diffId: string;
    readonly createdBy: string;
    /** `new`: made by this export; `reused`: taken from the previous image. */
    readonly origin: "new" | "reused";
    /** Bytes sent (or copied into a layout) for it. */
    readonly bytesWritten: number;
  }[];
  /** Bytes of every blob sent or copied, run image layers and config included. */
  readonly bytesWritten: number;
  /** The cache written, when one was given and writing it worked. */
  readonly cache?: CommitResult;
}

const fail = (message: string, code: number = ExitCode.export): never => {
  throw new LifecycleError(code, `exporter: ${message}`);
};

/** The phase as platforms call it. */
export async function exporter(argv: readonly string[], env: Env): Promise<void> {
  await exportImage(argv, env);
}

/**
 * The phase, returning what it did (for tests and in-process callers such as a creator). Any failure that is
 * not already a lifecycle error (a registry refusing, a file that vanished) is an export error (exit 62).
 */
export async function exportImage(argv: readonly string[], env: Env): Promise<ExportResult> {
  try {
    return await exportWith(argv, env);
  } catch (err) {
    if (err instanceof LifecycleError) throw err;
    throw new LifecycleError(ExitCode.export, `exporter: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

async function exportWith(argv: readonly string[], env: Env): Promise<ExportResult> {
  const { api, flags, inputs, log } = startPhase("exporter", argv, env, EXPORTER_FLAGS);
  if (flags.values.has("run-image") || flags.values.has("image")) {
    fail(
      `-${flags.values.has("run-image") ? "run-image" : "image"} is not supported: the run image is run-image.reference in analyzed.toml`,
      ExitCode.invalidArgs,
    );
  }
  if (flags.positionals.length === 0) fail("at least one image argument is required", ExitCode.invalidArgs);
  const names = [...flags.positionals];
  checkNames(names, inputs);
  const owner = { uid: idOf(inputs.uid, "-uid"), gid: idOf(inputs.gid, "-gid") };
  if (inputs.useDaemon) {
    fail(
      "-daemon is not supported by cnbp's lifecycle yet: export to a registry, or to an OCI layout with -layout",
    );
  }
  if (inputs.cacheImage) {
    try {
      parseReference(inputs.cacheImage);
    } catch (err) {
      fail(`-cache-image: ${(err as Error).message}`, ExitCode.invalidArgs);
    }
  }
  if (inputs.launchCacheDir) log.warn("Ignoring -launch-cache, only intended for use with -daemon");
  if (inputs.useLayout && !inputs.layoutDir) {
    fail("-layout needs -layout-dir (or CNB_LAYOUT_DIR)", ExitCode.invalidArgs);
  }

  const files = await readExportFiles(inputs, api, log);
  const md = files.buildMetadata;
  const processTypes = (md.processes ?? []).map((p) => p.type);
  const entrypoint =
    entrypointFor(inputs.processType, {
      types: processTypes,
      buildpackDefault: md["buildpack-default-process-type"],
    }) ??
    fail(
      `-process-type "${inputs.processType}" is not a process of this build (${processTypes.length > 0 ? `processes: ${processTypes.join(", ")}` : "it has no processes"})`,
    );

  // images are opened (and registry credentials read) before privileges are dropped
  const keychain = new DockerKeychain({ env });
  const client = new RegistryClient({ keychain, insecureRegistries: inputs.insecureRegistries });
  const where = inputs.useLayout
    ? ({ layout: true } as const)
    : ({ layout: false, backend: new RegistryBackend(client) } as const);
  const runImage =
    (await openRecorded(files.runImageRef, where)) ?? fail(`run image ${files.runImageRef} was not found`);
  const dockerManifest = runImage.manifest.mediaType === MediaType.dockerManifest && !inputs.useLayout;
  const base = files.extendedRunImage
    ? await extendedBase(files.extendedRunImage, runImage, dockerManifest)
    : runImageBase(runImage);
  if (files.extendedRunImage) {
    log.info(
      `Using the extended run image ${files.extendedRunImage}: ${base.extensionLayers} extension layer(s)`,
    );
  }
  const previousRef = files.analyzed.image?.reference;
  let previous: SourceImage | undefined;
  if (previousRef) {
    previous = await openRecorded(previousRef, where);
    if (previous) log.info(`Reusing layers from image '${previousRef}'`);
    else log.warn(`the previous image ${previousRef} is gone: no layer can be reused from it`);
  }
  if (!inputs.useLayout) {
    await keychain.resolve(parseReference(names[0] as string).registry).catch(() => undefined);
  }
  if (inputs.cacheImage) {
    await keychain.resolve(parseReference(inputs.cacheImage).registry).catch(() => undefined);
  }
  // the layout repository too: images are written into it as the build user
  const owned = [
    inputs.layersDir,
    ...(inputs.cacheDir && !inputs.cacheImage ? [inputs.cacheDir] : []),
    ...(inputs.useLayout ? [inputs.layoutDir as string] : []),
  ];
  await ensureOwner(owned, owner);
  await dropPrivileges(inputs, owned);
  let cache: LayerCache | undefined;
  try {
    cache = await openCache({ cacheDir: inputs.cacheDir, cacheImage: inputs.cacheImage, client, log });
  } catch (err) {
    fail(`opening the cache: ${(err as Error).message}`);
  }

  // in layout mode new layers are made on the layout's filesystem, to be linked into it rather than copied
  const scratchRoot = inputs.useLayout ? (inputs.layoutDir as string) : tmpdir();
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, ".cnbp-exporter-"));
  try {
    if (apiAtLeast(api, "0.11")) {
      await copyLifecycleSboms(inputs.layersDir, inputs.launcherSbomDir, log);
    }
    const factory = new LayerFactory(scratch, owner, !inputs.useLayout);
    const assembled = await assembleLayers({
      layersDir: inputs.layersDir,
      appDir: inputs.appDir,
      group: files.group.group,
      buildMetadata: md,
      launcherPath: inputs.launcherPath,
      previous,
      previousMetadata: files.analyzed.metadata,
      factory,
      layerMediaType: layerMediaTypeFor(
        inputs.useLayout
          ? { layout: true }
          : { layout: false, manifestMediaType: runImage.manifest.mediaType },
      ),
      log,
    });
    const diffIds = runImage.config.rootfs.diff_ids;
    const labels = appLabels({
      record: assembled.record,
      runImage: { topLayer: diffIds[diffIds.length - 1] ?? "", reference: runImage.identifier },
      runImageName: files.analyzed["run-image"]?.image,
      run: files.run,
      buildMetadata: md,
      project: files.project,
      platformApi: api,
      execEnv: inputs.execEnv,
      launcher: { version: LIFECYCLE_VERSION },
    });
    for (const [key] of labels) log.info(`Adding label '${key}'`);
    log.info(
      entrypoint.startsWith("/cnb/process/")
        ? `Setting default process type '${entrypoint.slice("/cnb/process/".length)}'`
        : "no default process type",
    );
    const config = appImageConfig({
      base: base.config,
      layers: assembled.layers,
      labels,
      layersDir: inputs.layersDir,
      appDir: inputs.appDir,
      platformApi: api,
      entrypoint,
      created: createdTime(env, log),
    });
    const writer: ImageWriter = inputs.useLayout
      ? new LayoutImageWriter(inputs.layoutDir as string)
      : new RegistryImageWriter(client);
    const saveImage = async (): Promise<SavedImage> => {
      log.info(`Saving ${names[0]}...`);
      let saved: SavedImage;
      try {
        saved = await writer.save(
          {
            config,
            layers: [...base.layers, ...assembled.layers],
            format: dockerManifest ? "docker" : "oci",
          },
          names,
        );
      } catch (err) {
        throw new Error(`saving ${names[0]}: ${(err as Error).message}`, { cause: err });
      }
      log.info(`*** Images (${saved.digest}):`);
      for (const tag of saved.tags) log.info(`      ${tag}`);
      log.debug(`*** Digest: ${saved.digest}`);
      log.debug(`*** Manifest Size: ${saved.manifestSize}`);
      await writeReport(inputs.reportPath, saved);
      return saved;
    };
    const saveCache = async (): Promise<CommitResult | undefined> => {
      if (!cache) return undefined;
      try {
        return await writeCache({
          cache,
          layersDir: inputs.layersDir,
          group: files.group.group,
          factory,
          log,
        });
      } catch (err) {
        log.warn(`Failed to export cache: ${(err as Error).message}`);
        return undefined;
      }
    };
    let saved: SavedImage;
    let cached: CommitResult | undefined;
    if (inputs.parallelExport) {
      // both finish before the scratch dir they read from goes
      const [image, cacheResult] = await Promise.allSettled([saveImage(), saveCache()]);
      if (image.status === "rejected") throw image.reason;
      saved = image.value;
      cached = cacheResult.status === "fulfilled" ? cacheResult.value : undefined;
    } else {
      saved = await saveImage();
      cached = await saveCache();
    }
    return {
      digest: saved.digest,
      manifestSize: saved.manifestSize,
      tags: saved.tags,
      layers: assembled.layers.map((l, i) => ({
        id: l.id,
        diffId: l.diffId,
        createdBy: l.createdBy,
        origin: l.reused ? "reused" : "new",
        bytesWritten: saved.layers[base.layers.length + i]?.bytes ?? 0,
      })),
      bytesWritten: saved.bytesWritten,
      ...(cached ? { cache: cached } : {}),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function checkNames(names: readonly string[], inputs: Inputs) {
  const registries = new Set<string>();
  for (const name of names) {
    try {
      const ref = parseReference(name);
      if (ref.digest) fail(`${name}: an image to write is named by tag, not by digest`, ExitCode.invalidArgs);
      registries.add(ref.registry);
    } catch (err) {
      if (err instanceof LifecycleError) throw err;
      fail((err as Error).message, ExitCode.invalidArgs);
    }
  }
  if (registries.size > 1 && !inputs.useDaemon && !inputs.useLayout) {
    fail(
      `the image and its tags must be on one registry, found ${[...registries].join(", ")}`,
      ExitCode.invalidArgs,
    );
  }
}

function idOf(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) fail(`${flag} ${JSON.stringify(text)} is not a numeric id`, ExitCode.invalidArgs);
  return Number(text);
}

/** SOURCE_DATE_EPOCH, or the CNB epoch; an invalid value is ignored with a warning, as in Go. */
function createdTime(env: Env, log: Log): Date {
  try {
    return layerMtime(env.SOURCE_DATE_EPOCH);
  } catch (err) {
    if (!(err instanceof CnbpError)) throw err;
    log.warn("Ignoring invalid SOURCE_DATE_EPOCH");
    return layerMtime(undefined);
  }
}

async function writeReport(path: string, saved: SavedImage) {
  await mkdir(dirname(path), { recursive: true });
  const report = {
    image: { tags: [...saved.tags], digest: saved.digest, "manifest-size": saved.manifestSize },
  };
  await writeFile(path, serializeSpec(reportToml, report));
}
