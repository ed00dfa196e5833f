/**
 * `buildpack package` and `extension package` (distribution.md 2): the buildpack or extension package.toml
 * names, one layer per module (the same layer builder create makes for it), a composite's dependencies with
 * their layers reused as they are, and the labels `io.buildpacks.buildpackage.metadata` and
 * `io.buildpacks.buildpack.layers` (`io.buildpacks.extension.layers`). Everything is resolved and checked
 * before anything is written; problems name the package.toml line and field.
 */
import { dirname } from "node:path";
import type { Problem } from "../../errors.js";
import {
  buildpackageMetadataLabel,
  buildpackLayersLabel,
  extensionLayersLabel,
  type PackageConfig,
  packageToml,
  serializeSpec,
} from "../../spec/index.js";
import { fitsPlatform, showPlatform, showTarget } from "../builder/targets.js";
import { ConfigFile } from "../config-file.js";
import { type AuthoringContext, SourceError, type TargetPlatform } from "../context.js";
import { emptyConfig, extendConfig } from "../image-config.js";
import type { ModuleKind } from "../module-layer.js";
import { ModuleSet } from "../module-set.js";
import { type ModuleInfo, moduleKey, moduleLayers, type ResolvedModule } from "../modules.js";
import type { Output } from "../output.js";
import { type AuthoredImage, type AuthoringOptions, saveAuthored, withAuthoring } from "../run.js";
import { locate } from "../sources/locate.js";
import { modulesAt, resolveModules } from "../sources/modules.js";
import { dependencyProblems } from "./composite.js";
import { packageStacks, type Stack } from "./stacks.js";

export interface PackageRequest {
  /** `buildpack package` or `extension package`: package.toml must have the matching table. */
  readonly kind: ModuleKind;
  /** package.toml; relative uris in it are relative to its directory. */
  readonly config: string;
  readonly output: Output;
  readonly labels?: Readonly<Record<string, string>>;
}

type Package = ConfigFile<PackageConfig>;

export function createPackage(request: PackageRequest, options: AuthoringOptions): Promise<AuthoredImage> {
  return withAuthoring(options, async (ctx) => {
    const { kind } = request;
    const file: Package = await ConfigFile.read(packageToml, request.config);
    const root = file.value[kind];
    if (!root) {
      const other = kind === "buildpack" ? "extension" : "buildpack";
      file.fail([other], `is for \`cnbp ${other} package\`: \`cnbp ${kind} package\` needs [${kind}] uri`);
    }
    file.check(platformProblems(file, ctx.platform));
    const baseDir = dirname(request.config);
    const entryPath = [kind, "uri"];
    const entrypoint = await file.source(entryPath, () => entrypointModule(root.uri, baseDir, kind, ctx));
    const set = new ModuleSet();
    set.add({ module: entrypoint, path: entryPath });
    const problems: Problem[] = [];
    for (const [i, dependency] of (file.value.dependencies ?? []).entries()) {
      const uri = dependency.uri ?? `docker://${dependency.image}`;
      const path = ["dependencies", i, dependency.uri ? "uri" : "image"];
      const found = await file.source(path, () => resolveModules(uri, baseDir, "buildpack", ctx));
      const buildpacks = found.filter((m) => m.kind === "buildpack");
      if (buildpacks.length === 0) file.fail(path, `${JSON.stringify(uri)} holds no buildpack`);
      for (const module of buildpacks) {
        const clash = set.add({ module, path });
        if (clash) problems.push(file.problem(path, clash));
      }
    }
    // the entrypoint went in first
    const [entry, ...dependencies] = set.sourced();
    const at = (path: readonly (string | number)[], message: string) => file.problem(path, message);
    if (entry) problems.push(...dependencyProblems(entry, dependencies, at));
    let stacks: Stack[] | null = null;
    if (kind === "buildpack") {
      stacks = packageStacks(
        entrypoint.layerInfo,
        dependencies.map((d) => d.module.layerInfo),
      );
      if (stacks.length === 0) {
        problems.push(at(["dependencies"], "the buildpacks share no stack: no platform could run them all"));
      }
    }
    file.check(problems);

    const modules = set.all(kind);
    const added = modules.map((m) => ({ what: `${m.kind} ${moduleKey(m.info)}`, layer: m.layer }));
    const image = {
      format: "oci" as const,
      config: extendConfig(
        emptyConfig(ctx.platform),
        added.map((a) => ({ diffId: a.layer.diffId, what: a.what })),
        { ...request.labels, ...packageLabels(kind, entrypoint.info, stacks, modules) },
      ),
      layers: added.map((a) => a.layer),
    };
    return saveAuthored(image, request.output, ctx, added, file.warnings);
  });
}

/** `[platform] os` and `[[targets]]` must admit the platform packaged for (`--target`, else linux/amd64). */
function platformProblems(file: Package, platform: TargetPlatform): Problem[] {
  const { platform: legacy, targets = [] } = file.value;
  const problems: Problem[] = [];
  if (legacy?.os && legacy.os !== platform.os) {
    problems.push(
      file.problem(
        ["platform", "os"],
        `is ${legacy.os}, not ${platform.os}, the os packaged for (see --target)`,
      ),
    );
  }
  if (targets.length > 0 && !targets.some((t) => fitsPlatform(t, platform))) {
    problems.push(
      file.problem(
        ["targets"],
        `(${targets.map(showTarget).join(", ")}) does not include ${showPlatform(platform)}, the platform packaged for: give one with --target`,
      ),
    );
  }
  return problems;
}

/** The module package.toml's `[buildpack]` / `[extension]` names: a module root, never a buildpackage. */
async function entrypointModule(
  uri: string,
  baseDir: string,
  kind: ModuleKind,
  ctx: AuthoringContext,
): Promise<ResolvedModule> {
  const located = await locate(uri, baseDir, ctx.scratch);
  if (located.kind === "package-file" || located.kind === "image") {
    const dependencies = kind === "buildpack" ? " (a buildpackage goes under [[dependencies]])" : "";
    throw new SourceError(
      `${JSON.stringify(uri)} is an image: give the ${kind}'s directory or an archive of it${dependencies}`,
    );
  }
  return (await modulesAt(located, uri, kind, ctx))[0] as ResolvedModule;
}

/** The buildpackage labels, as pack writes them: the entrypoint's info and stacks, and every module's layer. */
function packageLabels(
  kind: ModuleKind,
  info: ModuleInfo,
  stacks: Stack[] | null,
  modules: readonly ResolvedModule[],
): Record<string, string> {
  const { id, name, version, description, homepage, keywords, licenses } = info;
  // pack's key order; `stacks` is always there (null for an extension)
  const metadata = { id, name, version, description, homepage, keywords, licenses, stacks };
  const layers = kind === "buildpack" ? buildpackLayersLabel : extensionLayersLabel;
  return {
    [buildpackageMetadataLabel.name]: serializeSpec(buildpackageMetadataLabel, metadata),
    [layers.name]: serializeSpec(layers, moduleLayers(modules)),
  };
}
