/**
 * The files the exporter reads before it touches an image: analyzed.toml (missing or unreadable is an input
 * error, exit 3, as in the Go lifecycle), group.toml, `<layers>/config/metadata.toml`, and the optional
 * project-metadata.toml and run.toml, and the extended run image's directory when the run image is extended.
 * An invalid file fails the export (exit 62) naming the field.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AnalyzedMetadata,
  analyzedToml,
  type BuildMetadataFile,
  type FileKind,
  formatProblem,
  type GroupFile,
  groupToml,
  metadataToml,
  type ProjectMetadataFile,
  parseSpec,
  projectMetadataToml,
  type RunFile,
  runToml,
} from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import type { Inputs } from "../platform/inputs.js";
import { extendedRunImageDir } from "./base-image.js";

export interface ExportFiles {
  readonly analyzed: AnalyzedMetadata;
  /** analyzed `run-image.reference`: the base of the app image. */
  readonly runImageRef: string;
  /** The extended run image's layout (`<extended>/run/<digest>`), when analyzed says `run-image.extend`. */
  readonly extendedRunImage?: string;
  readonly group: GroupFile;
  readonly buildMetadata: BuildMetadataFile;
  readonly project?: ProjectMetadataFile;
  readonly run?: RunFile;
}

const fail = (message: string, code: number = ExitCode.export): never => {
  throw new LifecycleError(code, `exporter: ${message}`);
};

export async function readExportFiles(inputs: Inputs, api: string, log: Log): Promise<ExportFiles> {
  const analyzed = await readAnalyzed(inputs.analyzedPath, api);
  const runImageRef = analyzed["run-image"]?.reference;
  if (!runImageRef) {
    fail(`${inputs.analyzedPath} names no run image (run-image.reference)`, ExitCode.invalidArgs);
  }
  const extendedRunImage = analyzed["run-image"]?.extend
    ? await extendedRunImageDir(inputs.extendedDir)
    : undefined;
  const group =
    (await readInput(groupToml, inputs.groupPath, "group", api)) ?? fail(`${inputs.groupPath} not found`);
  const metadataPath = join(inputs.layersDir, "config", "metadata.toml");
  const buildMetadata =
    (await readInput(metadataToml, metadataPath, "build metadata", api)) ??
    fail(`${metadataPath} not found: the builder writes it`);
  const project = await readInput(projectMetadataToml, inputs.projectMetadataPath, "project metadata", api);
  if (!project) log.debug(`No project metadata found at path "${inputs.projectMetadataPath}"`);
  const run = await readInput(runToml, inputs.runPath, "run metadata", api);
  if (!run) log.info(`No run metadata found at path "${inputs.runPath}"`);
  return {
    analyzed,
    runImageRef: runImageRef as string,
    ...(extendedRunImage ? { extendedRunImage } : {}),
    group,
    buildMetadata,
    ...(project ? { project } : {}),
    ...(run ? { run } : {}),
  };
}

async function readAnalyzed(path: string, api: string): Promise<AnalyzedMetadata> {
  try {
    const analyzed = await readInput(analyzedToml, path, "analyzed metadata", api);
    if (!analyzed) {
      return fail(
        `no analyzed metadata at ${path}: the analyzer writes it before export (or pass -analyzed)`,
        ExitCode.invalidArgs,
      );
    }
    return analyzed;
  } catch (err) {
    if (err instanceof LifecycleError && err.exitCode === ExitCode.export) {
      throw new LifecycleError(ExitCode.invalidArgs, err.message);
    }
    throw err;
  }
}

/** A CNB file, undefined when it does not exist. */
async function readInput<T>(
  kind: FileKind<T>,
  path: string,
  what: string,
  api: string,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return fail(`cannot read the ${what} file ${path}: ${(err as Error).message}`);
  }
  const parsed = parseSpec(kind, text, path, { platformApi: api });
  if (!parsed.ok) {
    const problems = parsed.problems.filter((p) => p.severity === "error").map(formatProblem);
    return fail(`invalid ${what}: ${problems.join("; ")}`);
  }
  return parsed.value;
}
