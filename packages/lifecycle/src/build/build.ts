/**
 * The build (shared/spec/buildpack.md 5): every buildpack of the group runs its bin/build in order, each seeing
 * the build layers of those before it and the part of the plan left for it; its layers, launch.toml, build.toml
 * and SBOM files are checked and collected; then the SBOMs are placed and metadata.toml is written.
 */
import { lstat, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BuildMetadataFile, BuildpackDescriptor, GroupFile, PlanFile, RunImageTarget } from "@cnbp/core";
import { baseTarget, targetEnv } from "../detect/targets.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import { escapeId, type Module, ModuleError, type ModuleStore } from "../modules/store.js";
import { buildpackApiSupported, SUPPORTED_BUILDPACK_APIS } from "../platform/api.js";
import { BuildEnvironment } from "./build-env.js";
import { planFor, withoutMet, writePlanFile } from "./buildpack-plan.js";
import { type BuildpackRef, buildpackError, buildpackName } from "./errors.js";
import { type BuiltLayer, processLayers } from "./layers.js";
import { buildMetadata, writeLegacyBoms, writeMetadata } from "./metadata.js";
import { type BuildpackOutputs, type LegacyBomEntry, readOutputs } from "./outputs.js";
import { ProcessMerger } from "./processes.js";
import { runBuild } from "./run-build.js";
import { collectSboms, mkdirOwned, placeSboms, type SbomFile } from "./sbom.js";

export interface BuildRequest {
  readonly appDir: string;
  readonly layersDir: string;
  readonly platformDir: string;
  readonly buildConfigDir: string;
  readonly buildpacks: ModuleStore;
  readonly group: GroupFile;
  readonly plan: PlanFile;
  /** analyzed.toml's `run-image.target`, for `CNB_TARGET_*`. */
  readonly target: RunImageTarget | undefined;
  readonly execEnv: string;
  /** The lifecycle's own environment, filtered before buildpacks see it. */
  readonly lifecycleEnv: Readonly<Record<string, string | undefined>>;
  /** The build user bin/build runs as when the lifecycle is root; what the lifecycle writes is given to it. */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** bin/build output: streamed to the lifecycle's own (default), or collected into the result. */
  readonly output?: "inherit" | "collect";
  readonly osReleasePath?: string;
  readonly log: Log;
}

export interface BuildpackBuild {
  readonly id: string;
  readonly version: string;
  readonly layers: readonly BuiltLayer[];
  /** bin/build's output, when collected. */
  readonly output: string;
}

export interface BuildResult {
  readonly buildpacks: readonly BuildpackBuild[];
  readonly metadata: BuildMetadataFile;
  readonly metadataPath: string;
}

export async function build(req: BuildRequest): Promise<BuildResult> {
  const { log } = req;
  const owner = req.user && process.getuid?.() === 0 ? req.user : undefined;
  await rm(join(req.layersDir, "sbom"), { recursive: true, force: true });

  const env = new BuildEnvironment(req.lifecycleEnv);
  const target = targetEnv(await baseTarget(req.target, req.osReleasePath));
  const processes = new ProcessMerger();
  const labels: BuildpackOutputs["labels"][number][] = [];
  const slices: BuildpackOutputs["slices"][number][] = [];
  const boms = { launch: [] as LegacyBomEntry[], build: [] as LegacyBomEntry[] };
  const sboms: SbomFile[] = [];
  const built: BuildpackBuild[] = [];
  let plan = req.plan;

  for (const ref of req.group.group) {
    log.debug(`Running build for buildpack ${buildpackName(ref)}`);
    const bp = await lookUp(req.buildpacks, ref);
    const dir = join(req.layersDir, escapeId(bp.id));
    await mkdirOwned(dir, owner);
    const entries = planFor(plan, bp.id);
    const planFile = await writePlanFile(bp.id, entries, owner);
    let output: string;
    try {
      const inputs = { platformDir: req.platformDir, buildConfigDir: req.buildConfigDir, layersDir: dir };
      output = await runBuild({
        buildpack: bp,
        ...inputs,
        planPath: planFile.path,
        appDir: req.appDir,
        env: await env.forBuildpack(bp, { ...inputs, planPath: planFile.path, target, execEnv: req.execEnv }),
        ...(req.user ? { user: req.user } : {}),
        output: req.output ?? "inherit",
      });
    } finally {
      await planFile.remove();
    }
    if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) {
      throw buildpackError(bp, `${dir}: the buildpack's layers directory must stay a directory`);
    }

    const layers = await processLayers(bp, dir, log);
    for (const layer of layers) if (layer.types.build) await env.addBuildLayer(layer.path);
    const out = await readOutputs(
      bp,
      dir,
      entries.map((e) => e.name),
      log,
    );
    const descriptor = bp.descriptor as BuildpackDescriptor;
    const sbomFormats = descriptor.buildpack["sbom-formats"] ?? [];
    sboms.push(...(await collectSboms({ ...bp, sbomFormats }, dir, layers, (m) => log.warn(m))));

    plan = withoutMet(plan, entries, out.unmet);
    labels.push(...out.labels);
    slices.push(...out.slices);
    boms.launch.push(...out.launchBom);
    boms.build.push(...out.buildBom);
    const warning = processes.add(out.processes);
    if (warning) log.warn(warning);
    built.push({ id: bp.id, version: bp.version, layers, output });
    log.debug(`Finished running build for buildpack ${buildpackName(bp)}`);
  }

  log.debug("Copying SBOM files");
  await placeSboms(req.layersDir, sboms, owner);
  await writeLegacyBoms(req.layersDir, boms, owner);
  log.debug("Listing processes");
  const metadata = buildMetadata(req.group, {
    labels,
    processes: processes.list(),
    defaultType: processes.defaultType,
    slices,
  });
  const metadataPath = await writeMetadata(req.layersDir, metadata, owner);
  return { buildpacks: built, metadata, metadataPath };
}

/** The group buildpack's descriptor, whose Buildpack API this lifecycle must implement (else exit 12). */
async function lookUp(store: ModuleStore, ref: BuildpackRef): Promise<Module> {
  let bp: Module;
  try {
    bp = await store.get("buildpack", ref.id, ref.version);
  } catch (err) {
    if (err instanceof ModuleError) throw new LifecycleError(ExitCode.build, err.message);
    throw err;
  }
  if (!buildpackApiSupported(bp.api)) {
    throw buildpackError(
      bp,
      `${bp.descriptorPath}: Buildpack API ${bp.api} is not supported by this lifecycle (it supports ${SUPPORTED_BUILDPACK_APIS.join(", ")})`,
      ExitCode.incompatibleBuildpackApi,
    );
  }
  return bp;
}
