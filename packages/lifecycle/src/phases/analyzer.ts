/**
 * analyzer (shared/spec/platform.md 4.1): finds the previous image and the run image, checks registry
 * access, restores the previous image's launch SBOM, and writes analyzed.toml.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  type AnalyzedMetadata,
  analyzedToml,
  DockerKeychain,
  extractLayer,
  type ImageBackend,
  LayoutBackend,
  labelsOf,
  lifecycleMetadataLabel,
  parseReference,
  RegistryBackend,
  RegistryClient,
  readSpecFile,
  runToml,
  type SourceImage,
  selectRunImage,
  serializeSpec,
  validateSpec,
} from "@cnbp/core";
import type { FlagSpec } from "../cli/flags.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import { analyzedMetadataFromLabel } from "../platform/image-metadata.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { dropPrivileges } from "../platform/privileges.js";
import { runImageTarget } from "../platform/run-image-target.js";
import { startPhase } from "./start.js";

export const ANALYZER_FLAGS: readonly FlagSpec[] = [
  ...["analyzed", "cache-image", "gid", "layers", "log-level", "previous-image", "run-image", "uid"].map(
    (name) => ({ name, kind: "string" }) as const,
  ),
  { name: "daemon", kind: "bool" },
  { name: "no-color", kind: "bool" },
  { name: "tag", kind: "list" },
  { name: "launch-cache", kind: "string" },
  { name: "skip-layers", kind: "bool" },
  { name: "layout", kind: "bool", since: "0.12" },
  { name: "layout-dir", kind: "string", since: "0.12" },
  { name: "run", kind: "string", since: "0.12" },
  { name: "insecure-registry", kind: "list", since: "0.13" },
];

const fail = (message: string, code: number = ExitCode.analyze): never => {
  throw new LifecycleError(code, `analyzer: ${message}`);
};

export async function analyzer(argv: readonly string[], env: Env) {
  const { flags, inputs, log } = startPhase("analyzer", argv, env, ANALYZER_FLAGS);
  if (flags.positionals.length !== 1) {
    fail(
      `expected exactly one argument, the output image; got ${flags.positionals.length}`,
      ExitCode.invalidArgs,
    );
  }
  const image = flags.positionals[0] as string;
  const tags = inputs.tags;
  checkReferences(image, tags, inputs);
  if (inputs.useDaemon) {
    fail(
      "-daemon is not supported by cnbp's lifecycle yet: export to a registry, or to an OCI layout with -layout",
    );
  }
  const backend = imageBackend(inputs, env);
  // credentials are resolved by the backend before privileges are dropped (files only root can read still work)
  await checkAccess(backend, image, tags, inputs);
  const runImageName = await chooseRunImage(backend, image, inputs);
  const runImage = await backend.find(runImageName);
  if (!runImage) fail(`run image ${runImageName} was not found`);
  const previous = await backend.find(inputs.previousImage ?? image);
  await dropPrivileges(inputs, [inputs.layersDir]);

  const label = previous ? previousMetadata(previous, log) : undefined;
  if (previous && label?.sbom?.sha && !inputs.skipLayers)
    await restoreLaunchSbom(previous, label.sbom.sha, log);
  const analyzed = analyzedFile(previous, runImage as SourceImage, runImageName, label);
  await mkdir(dirname(inputs.analyzedPath), { recursive: true });
  await writeFile(inputs.analyzedPath, serializeSpec(analyzedToml, analyzed));
  log.info(
    `Analyzed ${image}: previous image ${previous ? previous.identifier : "not found"}, run image ${runImageName}`,
  );
}

function checkReferences(image: string, tags: readonly string[], inputs: Inputs) {
  const registries = new Set<string>();
  for (const name of [image, ...tags]) {
    try {
      registries.add(parseReference(name).registry);
    } catch (err) {
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

function imageBackend(inputs: Inputs, env: Readonly<Record<string, string | undefined>>): ImageBackend {
  if (inputs.useLayout) {
    if (!inputs.layoutDir) fail("-layout needs -layout-dir (or CNB_LAYOUT_DIR)", ExitCode.invalidArgs);
    return new LayoutBackend(inputs.layoutDir as string);
  }
  const keychain = new DockerKeychain({ env });
  return new RegistryBackend(new RegistryClient({ keychain, insecureRegistries: inputs.insecureRegistries }));
}

async function checkAccess(backend: ImageBackend, image: string, tags: readonly string[], inputs: Inputs) {
  for (const name of [image, ...tags, ...(inputs.cacheImage ? [inputs.cacheImage] : [])]) {
    if (!(await backend.canWrite(name))) {
      fail(
        `cannot write ${name}: check the credentials for its registry (docker login, or CNB_REGISTRY_AUTH)`,
      );
    }
  }
  if (inputs.previousImage && !(await backend.canRead(inputs.previousImage))) {
    fail(`cannot read the previous image ${inputs.previousImage}: check the credentials for its registry`);
  }
}

async function chooseRunImage(backend: ImageBackend, image: string, inputs: Inputs): Promise<string> {
  if (inputs.runImage) return inputs.runImage;
  const run = await readSpecFile(runToml, inputs.runPath).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return fail(`no run image: pass -run-image, or provide ${inputs.runPath}`, ExitCode.invalidArgs);
    }
    throw err;
  });
  const first = run.images?.[0];
  if (!first?.image) fail(`${inputs.runPath} names no run image: pass -run-image`, ExitCode.invalidArgs);
  const chosen = await selectRunImage(first as { image: string }, image, (ref) => backend.canRead(ref));
  if (!chosen)
    fail(
      `none of the run images in ${inputs.runPath} can be read: ${[first?.image, ...(first?.mirrors ?? [])].join(", ")}`,
    );
  return chosen as string;
}

/** The previous image's lifecycle label; one that cannot be read counts as none, as in the Go lifecycle. */
function previousMetadata(previous: SourceImage, log: Log) {
  const text = labelsOf(previous)["io.buildpacks.lifecycle.metadata"];
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    log.warn(`the previous image's io.buildpacks.lifecycle.metadata label is not JSON: ignoring it`);
    return undefined;
  }
  const parsed = validateSpec(
    lifecycleMetadataLabel,
    json,
    `${previous.name} label io.buildpacks.lifecycle.metadata`,
  );
  if (!parsed.ok) {
    log.warn(`the previous image's io.buildpacks.lifecycle.metadata label is invalid: ignoring it`);
    return undefined;
  }
  return parsed.value;
}

async function restoreLaunchSbom(previous: SourceImage, diffId: string, log: Log) {
  const layer = await previous.openLayer(diffId);
  if (!layer) {
    log.warn(`the previous image's launch SBOM layer ${diffId} is missing: not restoring it`);
    return;
  }
  // entries carry absolute container paths (<layers>/sbom/launch/...), as the exporter wrote them
  await extractLayer(layer, "/", {
    label: `launch SBOM layer ${diffId} of ${previous.name}`,
    ownership: "none",
  });
}

function analyzedFile(
  previous: SourceImage | undefined,
  runImage: SourceImage,
  runImageName: string,
  label: ReturnType<typeof previousMetadata>,
): AnalyzedMetadata {
  const target = runImageTarget(runImage) ?? fail(`run image ${runImageName} has no os in its config`);
  return {
    image: { reference: previous?.identifier ?? "" },
    "run-image": { reference: runImage.identifier, image: runImageName, target },
    metadata: label ? analyzedMetadataFromLabel(label) : undefined,
  } as AnalyzedMetadata;
}
