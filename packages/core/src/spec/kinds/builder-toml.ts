/**
 * builder.toml: pack's builder configuration (shared/spec/distribution.md 3.1). Strict like pack:
 * a key pack does not know is an error.
 */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { license, matching, moduleId, show, versionRef } from "../schema.js";

/** A target as pack reads it in builder.toml and package.toml (`variant`, `[[targets.distros]]`). */
export const packTarget = z.strictObject({
  os: z.string().optional(),
  arch: z.string().optional(),
  variant: z.string().optional(),
  distros: z
    .array(z.strictObject({ name: z.string().optional(), version: z.string().optional() }))
    .optional(),
});

/** Descriptive keys pack decodes wherever it reads a module (its ModuleInfo). */
const moduleInfo = {
  name: z.string().optional(),
  description: z.string().optional(),
  homepage: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  licenses: z.array(license).optional(),
  "clear-env": z.boolean().optional(),
  "exec-env": z.array(z.string()).optional(),
};

/** `[[buildpacks]]` / `[[extensions]]`: where to get a module; id and version only select or check it. */
const moduleSource = z.strictObject({
  id: moduleId.optional(),
  version: versionRef.optional(),
  uri: z.string().min(1).optional(),
  image: z.string().min(1).optional(),
  ...moduleInfo,
});

const orderEntry = z.strictObject({
  id: moduleId,
  version: versionRef.optional(),
  optional: z.boolean().optional(),
  ...moduleInfo,
});

const order = z.array(z.strictObject({ group: z.array(orderEntry).min(1) }));

const systemBuildpacks = z.strictObject({
  buildpacks: z.array(orderEntry.extend({ version: versionRef })).optional(),
});

export const ENV_SUFFIXES = ["default", "override", "append", "prepend"] as const;

const buildEnv = z.strictObject({
  name: z.string().min(1),
  value: z.string(),
  suffix: z.enum(ENV_SUFFIXES).optional(),
  delim: z.string().optional(),
  "exec-env": z.array(z.string()).optional(),
});

/** pack parses the lifecycle version as semver, leniently ("v" prefix, missing minor or patch). */
const lifecycleVersion = matching(
  /^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/,
  'is not a valid version (semver, e.g. "0.21.0")',
);

const schema = z.strictObject({
  description: z.string().optional(),
  buildpacks: z.array(moduleSource).optional(),
  extensions: z.array(moduleSource).optional(),
  order: order.optional(),
  "order-extensions": order.optional(),
  // image is required, but may come from the deprecated [stack] instead: checked below
  build: z
    .strictObject({ image: z.string().min(1).optional(), env: z.array(buildEnv).optional() })
    .optional(),
  run: z
    .strictObject({
      images: z.array(
        z.strictObject({ image: z.string().min(1), mirrors: z.array(z.string().min(1)).optional() }),
      ),
    })
    .optional(),
  stack: z
    .strictObject({
      id: z.string().min(1).optional(),
      "build-image": z.string().min(1).optional(),
      "run-image": z.string().min(1).optional(),
      "run-image-mirrors": z.array(z.string().min(1)).optional(),
    })
    .optional(),
  lifecycle: z
    .strictObject({ version: lifecycleVersion.optional(), uri: z.string().min(1).optional() })
    .optional(),
  targets: z.array(packTarget).optional(),
  system: z.strictObject({ pre: systemBuildpacks.optional(), post: systemBuildpacks.optional() }).optional(),
});

export type BuilderConfig = z.infer<typeof schema>;

/** The build image: `[build] image`, or the deprecated `[stack] build-image`. */
export function builderBuildImage(config: BuilderConfig): string | undefined {
  return config.build?.image ?? config.stack?.["build-image"];
}

/** The run images: `[[run.images]]`, or the deprecated `[stack] run-image` and its mirrors. */
export function builderRunImages(config: BuilderConfig): { image: string; mirrors?: string[] }[] {
  if (config.run?.images.length) return config.run.images;
  const image = config.stack?.["run-image"];
  return image ? [{ image, mirrors: config.stack?.["run-image-mirrors"] }] : [];
}

function checkModules(kind: "buildpacks" | "extensions", modules: BuilderConfig["buildpacks"]): Finding[] {
  const findings: Finding[] = [];
  for (const [i, m] of (modules ?? []).entries()) {
    if (m.uri && m.image) {
      findings.push({ path: [kind, i], message: "has both uri and image: give one" });
    } else if (!m.uri && !m.image) {
      findings.push({ path: [kind, i], message: "has neither uri nor image: give one" });
    } else if (m.image) {
      findings.push({
        path: [kind, i, "image"],
        message: `is deprecated: use uri = "docker://${m.image}"`,
        severity: "warning",
      });
    }
  }
  return findings;
}

function checkImages(config: BuilderConfig): Finding[] {
  const findings: Finding[] = [];
  const { build, run, stack } = config;
  if (!builderBuildImage(config)) {
    findings.push({ path: ["build", "image"], message: "is required" });
  } else if (build?.image && stack?.["build-image"] && build.image !== stack["build-image"]) {
    findings.push({
      path: ["stack", "build-image"],
      message: `${show(stack["build-image"])} does not match build.image ${show(build.image)}`,
    });
  }
  const first = run?.images[0]?.image;
  if (first === undefined) {
    if (!stack?.["run-image"]) findings.push({ path: ["run", "images"], message: "is required" });
    else if (!stack.id) {
      findings.push({
        path: ["stack", "id"],
        message: "is required with stack.run-image (or give [[run.images]])",
      });
    }
  } else if (stack?.["run-image"] && stack["run-image"] !== first) {
    findings.push({
      path: ["stack", "run-image"],
      message: `${show(stack["run-image"])} does not match run.images[0].image ${show(first)}`,
    });
  }
  if (stack) {
    findings.push({
      path: ["stack"],
      message: "is deprecated: use [build] image and [[run.images]]",
      severity: "warning",
    });
  }
  return findings;
}

export const builderToml: FileKind<BuilderConfig> = {
  name: "builder.toml",
  fileNames: ["builder.toml"],
  format: "toml",
  summary: "pack's builder configuration (builder create)",
  schema,
  check(config) {
    const findings = [
      ...checkModules("buildpacks", config.buildpacks),
      ...checkModules("extensions", config.extensions),
      ...checkImages(config),
    ];
    for (const [i, env] of (config.build?.env ?? []).entries()) {
      if ((env.suffix === "append" || env.suffix === "prepend") && !env.delim) {
        findings.push({
          path: ["build", "env", i, "delim"],
          message: `is required with suffix "${env.suffix}"`,
        });
      }
    }
    if (config.lifecycle?.version && config.lifecycle.uri) {
      findings.push({ path: ["lifecycle"], message: "has both version and uri: give one" });
    }
    if (!config.order?.length) {
      findings.push({
        path: ["order"],
        message: "is empty: the builder will detect nothing",
        severity: "warning",
      });
    }
    return findings;
  },
};
