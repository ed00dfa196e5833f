/**
 * The layers the exporter puts on the run image, in the order of shared/spec/platform.md 4.6: buildpack
 * launch layers, the launch SBOM, the app (slices, then the rest), the launcher, the config dir and the
 * process types. Each new layer whose diffID is the one the previous image's label records for the same key
 * is taken from the previous image instead (nothing to upload); a launch layer without a directory must be
 * taken from it. Returns the layers with their history and what the lifecycle metadata label records.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { BlobOrigin, LayerToWrite } from "@cnbp/core";
import {
  type BuildMetadataFile,
  type Descriptor,
  type Digest,
  layerForDiffId,
  layerTypes,
  MediaType,
  type PreviousImageMetadata,
  type SourceImage,
} from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import { BadSlicePattern, sliceAppDir } from "./app-slices.js";
import { type BuildpackLayers, type GroupBuildpack, readBuildpackLayers } from "./buildpack-layers.js";
import type { LabelBuildpack, LabelLayer, LayersRecord } from "./labels.js";
import { recordedLauncherDiffId } from "./launcher-record.js";
import type { BuiltLayer, LayerFactory } from "./layer-factory.js";
import { launcherParts, processTypesParts } from "./lifecycle-layers.js";

export const CreatedBy = {
  app: "Application Layer",
  slice: (n: number) => `Application Slice: ${n}`,
  buildpack: (layer: string, bp: GroupBuildpack) =>
    `Layer: '${layer}', Created by buildpack: ${bp.id}@${bp.version}`,
  launcher: "Buildpacks Application Launcher",
  config: "Buildpacks Launcher Config",
  processTypes: "Buildpacks Process Types",
  sbom: "Software Bill-of-Materials",
} as const;

/** A layer of the app image above the run image. */
export interface ExportedLayer extends LayerToWrite {
  readonly id: string;
  readonly createdBy: string;
  /** Taken from the previous image rather than made now. */
  readonly reused: boolean;
}

export interface AssembleInput {
  readonly layersDir: string;
  readonly appDir: string;
  readonly group: readonly GroupBuildpack[];
  readonly buildMetadata: BuildMetadataFile;
  readonly launcherPath: string;
  readonly previous: SourceImage | undefined;
  /** analyzed.toml `[metadata]`: the previous image's label. */
  readonly previousMetadata: PreviousImageMetadata | undefined;
  readonly factory: LayerFactory;
  /** Media type of new layers (gzip, in the manifest's flavour). */
  readonly layerMediaType: string;
  readonly log: Log;
}

export interface Assembled {
  readonly layers: readonly ExportedLayer[];
  readonly record: LayersRecord;
}

const fail = (message: string): never => {
  throw new LifecycleError(ExitCode.export, `exporter: ${message}`);
};

export async function assembleLayers(input: AssembleInput): Promise<Assembled> {
  const { factory, log, previousMetadata: orig } = input;
  const layers: ExportedLayer[] = [];

  /** The new layer, or the previous image's when its diffID is the one recorded there for the same key. */
  const addOrReuse = (built: BuiltLayer, previousSha: string | undefined): ExportedLayer => {
    const { diffId } = built.result;
    const old = previousSha === diffId ? previousLayer(diffId) : undefined;
    if (old) {
      log.info(`Reusing layer '${built.id}'`);
      log.debug(`Layer '${built.id}' SHA: ${diffId}`);
      return { id: built.id, createdBy: built.createdBy, diffId, reused: true, ...old };
    }
    log.info(`Adding layer '${built.id}'`);
    log.debug(`Layer '${built.id}' SHA: ${diffId}`);
    return {
      id: built.id,
      createdBy: built.createdBy,
      diffId,
      reused: false,
      descriptor: { mediaType: input.layerMediaType, digest: built.result.digest, size: built.result.size },
      origin: { kind: "file", path: built.file },
    };
  };
  const previousLayer = (diffId: string): { descriptor: Descriptor; origin: BlobOrigin } | undefined => {
    const { previous } = input;
    const descriptor = previous && layerForDiffId(previous.manifest, previous.config, diffId);
    return previous && descriptor ? { descriptor, origin: { kind: "image", image: previous } } : undefined;
  };

  // 1. buildpack launch layers, buildpacks in group order
  const buildpacks: LabelBuildpack[] = [];
  for (const bp of input.group) {
    const dir: BuildpackLayers = await readBuildpackLayers(input.layersDir, bp);
    const origLayers = orig?.buildpacks?.find((b) => b.key === bp.id)?.layers ?? {};
    const labelLayers: Record<string, LabelLayer> = {};
    for (const layer of dir.launchLayers) {
      const types = layerTypes(layer.metadata);
      const createdBy = CreatedBy.buildpack(layer.name, bp);
      let sha: Digest;
      if (layer.hasContents) {
        const built = await factory.dir(layer.identifier, createdBy, layer.path);
        const exported = addOrReuse(built, origLayers[layer.name]?.sha);
        layers.push(exported);
        sha = exported.diffId;
      } else {
        if (types.cache) fail(`layer '${layer.identifier}' is cache=true but has no contents`);
        const origSha =
          origLayers[layer.name]?.sha ??
          fail(
            `cannot reuse '${layer.identifier}': it is launch=true without a directory and the previous image has no metadata for it`,
          );
        const old =
          previousLayer(origSha) ??
          fail(
            `cannot reuse '${layer.identifier}': the previous image ${input.previous?.identifier ?? "(not found)"} has no layer ${origSha}`,
          );
        log.info(`Reusing layer '${layer.identifier}'`);
        layers.push({ id: layer.identifier, createdBy, diffId: origSha, reused: true, ...old });
        sha = origSha;
      }
      labelLayers[layer.name] = {
        sha,
        data: layer.metadata.metadata ?? null,
        build: types.build,
        launch: types.launch,
        cache: types.cache,
      };
    }
    buildpacks.push({
      key: bp.id,
      version: bp.version,
      layers: labelLayers,
      ...(dir.store ? { store: dir.store } : {}),
    });
  }

  // 2. the launch SBOM
  let sbom: string | undefined;
  const sbomDir = join(input.layersDir, "sbom", "launch");
  if (await isDir(sbomDir)) {
    const built = await factory.dir("buildpacksio/lifecycle:launch.sbom", CreatedBy.sbom, sbomDir);
    const exported = addOrReuse(built, orig?.sbom?.sha);
    layers.push(exported);
    sbom = exported.diffId;
  }

  // 3. the app: slices then the rest; a slice is reused when its diffID is any of the old app layers
  const slices = input.buildMetadata.slices ?? [];
  let lists: string[][];
  try {
    lists = await sliceAppDir(input.appDir, slices);
  } catch (err) {
    if (err instanceof BadSlicePattern) fail(`exporting app layers: ${err.message}`);
    throw err;
  }
  const origApp = Array.isArray(orig?.app) ? orig.app : orig?.app ? [orig.app] : [];
  const app: string[] = [];
  let reusedApp = 0;
  for (const [i, files] of lists.entries()) {
    const n = i + 1;
    const createdBy = lists.length === 1 ? CreatedBy.app : CreatedBy.slice(n);
    const built = await factory.files(`slice-${n}`, createdBy, input.appDir, files);
    const { diffId } = built.result;
    const old = origApp.some((a) => a.sha === diffId) ? previousLayer(diffId) : undefined;
    const exported: ExportedLayer = old
      ? { id: built.id, createdBy, diffId, reused: true, ...old }
      : {
          id: built.id,
          createdBy,
          diffId,
          reused: false,
          descriptor: {
            mediaType: input.layerMediaType,
            digest: built.result.digest,
            size: built.result.size,
          },
          origin: { kind: "file", path: built.file },
        };
    if (old) reusedApp++;
    log.debug(`Layer '${built.id}' SHA: ${diffId}`);
    layers.push(exported);
    app.push(diffId);
  }
  if (reusedApp > 0) log.info(`Reusing ${reusedApp}/${lists.length} app layer(s)`);
  if (reusedApp < lists.length) log.info(`Adding ${lists.length - reusedApp}/${lists.length} app layer(s)`);

  // 4. the launcher: not even made when its record says the previous image has it
  if (!(await isFile(input.launcherPath))) fail(`the launcher ${input.launcherPath} is not a file`);
  const launcherId = "buildpacksio/lifecycle:launcher";
  const recorded = await recordedLauncherDiffId(input.launcherPath);
  const kept = recorded && recorded === orig?.launcher?.sha ? previousLayer(recorded) : undefined;
  let launcher: ExportedLayer;
  if (recorded && kept) {
    log.info(`Reusing layer '${launcherId}'`);
    log.debug(`Layer '${launcherId}' SHA: ${recorded}`);
    launcher = { id: launcherId, createdBy: CreatedBy.launcher, diffId: recorded, reused: true, ...kept };
  } else {
    const built = await factory.parts(launcherId, CreatedBy.launcher, launcherParts(input.launcherPath));
    launcher = addOrReuse(built, orig?.launcher?.sha);
  }
  layers.push(launcher);

  // 5. the config dir (metadata.toml, for the launcher)
  const config = addOrReuse(
    await factory.dir("buildpacksio/lifecycle:config", CreatedBy.config, join(input.layersDir, "config")),
    orig?.config?.sha,
  );
  layers.push(config);

  // 6. one symlink per process type
  let processTypes = "";
  const types = (input.buildMetadata.processes ?? []).map((p) => p.type);
  if (types.length > 0) {
    const built = await factory.parts(
      "buildpacksio/lifecycle:process-types",
      CreatedBy.processTypes,
      processTypesParts(types),
    );
    const exported = addOrReuse(built, orig?.["process-types"]?.sha);
    layers.push(exported);
    processTypes = exported.diffId;
  }

  return {
    layers,
    record: { app, sbom, buildpacks, config: config.diffId, launcher: launcher.diffId, processTypes },
  };
}

/**
 * The media type of new layers: plain OCI tars in a layout (written at disk speed), gzip in the run image's
 * manifest flavour for a registry.
 */
export function layerMediaTypeFor(
  target: { layout: true } | { layout: false; manifestMediaType: string | undefined },
): string {
  if (target.layout) return MediaType.ociLayer;
  return target.manifestMediaType === MediaType.dockerManifest
    ? MediaType.dockerLayerGzip
    : MediaType.ociLayerGzip;
}

export const isDir = (p: string) =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
const isFile = (p: string) =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
