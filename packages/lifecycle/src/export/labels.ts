/**
 * The app image's JSON labels (shared/spec/files.md 3.1-3.3), with the keys, spellings and empty values the
 * Go lifecycle writes: `io.buildpacks.lifecycle.metadata` (every layer's diffID, buildpack layer metadata,
 * the run image for rebase), `io.buildpacks.build.metadata` (buildpacks, processes, launcher) and
 * `io.buildpacks.project.metadata`.
 */
import {
  apiAtLeast,
  type BuildMetadataFile,
  type ProjectMetadataFile,
  processCommand,
  type RunFile,
  runImageListed,
} from "@cnbp/core";

/** A layer of a buildpack in the label: its `<layer>.toml` flags and `[metadata]` (as `data`), and diffID. */
export interface LabelLayer {
  readonly sha: string;
  readonly data: unknown;
  readonly build: boolean;
  readonly launch: boolean;
  readonly cache: boolean;
}

export interface LabelBuildpack {
  readonly key: string;
  readonly version: string;
  readonly layers: Readonly<Record<string, LabelLayer>>;
  readonly store?: { readonly metadata: Record<string, unknown> };
}

/** The run image as recorded for rebase: names from run.toml (platform.md 6). */
export interface RunImageForExport {
  readonly image?: string;
  readonly mirrors?: readonly string[];
}

export interface LayersRecord {
  readonly app: readonly string[];
  readonly sbom?: string;
  readonly buildpacks: readonly LabelBuildpack[];
  readonly config: string;
  readonly launcher: string;
  /** `""` without processes. */
  readonly processTypes: string;
}

/** `io.buildpacks.lifecycle.metadata`, keys in the Go lifecycle's order. */
export function lifecycleMetadata(
  layers: LayersRecord,
  runImage: { readonly topLayer: string; readonly reference: string } & RunImageForExport,
): Record<string, unknown> {
  const names = runImageNames(runImage);
  return {
    app: layers.app.map((sha) => ({ sha })),
    ...(layers.sbom ? { sbom: { sha: layers.sbom } } : {}),
    buildpacks: layers.buildpacks.map((bp) => ({
      key: bp.key,
      version: bp.version,
      layers: Object.fromEntries(
        Object.keys(bp.layers)
          .sort()
          .map((name) => [name, bp.layers[name]]),
      ),
      ...(bp.store ? { store: bp.store } : {}),
    })),
    config: { sha: layers.config },
    launcher: { sha: layers.launcher },
    "process-types": { sha: layers.processTypes },
    runImage: { topLayer: runImage.topLayer, reference: runImage.reference, ...names },
    stack: { runImage: names },
  };
}

function runImageNames(r: RunImageForExport): RunImageForExport {
  return {
    ...(r.image ? { image: r.image } : {}),
    ...(r.mirrors?.length ? { mirrors: [...r.mirrors] } : {}),
  };
}

/**
 * The run image names for the label: the first run.toml entry listing analyzed's `run-image.image`; else,
 * when extensions took part, that image alone; else the first entry. Without run.toml images, analyzed's
 * image alone (the Go lifecycle leaves the names empty, which leaves rebase without a run image).
 */
export function runImageForExport(
  run: RunFile | undefined,
  analyzedImage: string | undefined,
  usedExtensions: boolean,
): RunImageForExport {
  const images = run?.images ?? [];
  if (images.length === 0) return analyzedImage ? { image: analyzedImage } : {};
  if (analyzedImage) {
    const listed = images.find((entry) => runImageListed(entry, analyzedImage));
    if (listed) return { image: listed.image, mirrors: listed.mirrors };
    if (usedExtensions) return { image: analyzedImage };
  }
  const first = images[0] as { image?: string; mirrors?: string[] };
  return { image: first.image, mirrors: first.mirrors };
}

/** The launcher as the label describes it. */
export interface LauncherInfo {
  readonly version: string;
}

/** `io.buildpacks.build.metadata`: metadata.toml without labels and slices, processes in JSON spelling. */
export function buildMetadata(md: BuildMetadataFile, launcher: LauncherInfo): Record<string, unknown> {
  const modules = (list: BuildMetadataFile["buildpacks"]) =>
    (list ?? []).map((m) => ({
      id: m.id,
      version: m.version,
      ...(m.homepage ? { homepage: m.homepage } : {}),
    }));
  const processes = md.processes?.map((p) => ({
    type: p.type,
    command: processCommand(p),
    args: p.args ?? null,
    direct: p.direct ?? false,
    ...(p.default ? { default: true } : {}),
    buildpackID: p["buildpack-id"] ?? "",
    ...(p["working-dir"] ? { "working-dir": p["working-dir"] } : {}),
    ...(p["exec-env"]?.length ? { "exec-env": p["exec-env"] } : {}),
  }));
  const defaultType = md["buildpack-default-process-type"];
  return {
    buildpacks: modules(md.buildpacks),
    ...(md.extensions?.length ? { extensions: modules(md.extensions) } : {}),
    launcher,
    processes: processes ?? null,
    ...(defaultType ? { "buildpack-default-process-type": defaultType } : {}),
  };
}

/** `io.buildpacks.project.metadata`: project-metadata.toml as JSON, `{}` without one. */
export function projectMetadata(project: ProjectMetadataFile | undefined): Record<string, unknown> {
  return project?.source ? { source: project.source } : {};
}

export interface AppLabelsInput {
  readonly record: LayersRecord;
  /** The run image's top layer diffID and the identifier analyzed.toml recorded. */
  readonly runImage: { readonly topLayer: string; readonly reference: string };
  /** analyzed `run-image.image`. */
  readonly runImageName: string | undefined;
  readonly run: RunFile | undefined;
  readonly buildMetadata: BuildMetadataFile;
  readonly project: ProjectMetadataFile | undefined;
  readonly platformApi: string;
  readonly execEnv: string;
  readonly launcher: LauncherInfo;
}

/**
 * Every label the exporter sets, in the Go lifecycle's order (a later one wins): the three JSON labels, the
 * buildpacks' `[[labels]]`, then `io.buildpacks.exec-env` (Platform 0.15).
 */
export function appLabels(o: AppLabelsInput): [string, string][] {
  const md = o.buildMetadata;
  const names = runImageForExport(o.run, o.runImageName, (md.extensions?.length ?? 0) > 0);
  const labels: [string, string][] = [
    [
      "io.buildpacks.lifecycle.metadata",
      JSON.stringify(lifecycleMetadata(o.record, { ...o.runImage, ...names })),
    ],
    ["io.buildpacks.build.metadata", JSON.stringify(buildMetadata(md, o.launcher))],
    ["io.buildpacks.project.metadata", JSON.stringify(projectMetadata(o.project))],
    ...(md.labels ?? []).map((l): [string, string] => [l.key, l.value]),
  ];
  if (apiAtLeast(o.platformApi, "0.15")) labels.push(["io.buildpacks.exec-env", o.execEnv]);
  return labels;
}
