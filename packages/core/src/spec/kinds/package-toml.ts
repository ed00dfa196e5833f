/**
 * package.toml: pack's buildpackage configuration (shared/spec/distribution.md 2). Strict like pack:
 * a key pack does not know is an error.
 */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { packTarget } from "./builder-toml.js";

const moduleRoot = z.strictObject({ uri: z.string().min(1) });

const schema = z.strictObject({
  buildpack: moduleRoot.optional(),
  extension: moduleRoot.optional(),
  dependencies: z
    .array(z.strictObject({ uri: z.string().min(1).optional(), image: z.string().min(1).optional() }))
    .optional(),
  // deprecated by [[targets]]; pack also decodes `architecture`
  platform: z
    .strictObject({ os: z.enum(["linux", "windows"]).optional(), architecture: z.string().optional() })
    .optional(),
  targets: z.array(packTarget).optional(),
});

export type PackageConfig = z.infer<typeof schema>;

export const packageToml: FileKind<PackageConfig> = {
  name: "package.toml",
  fileNames: ["package.toml"],
  format: "toml",
  summary: "pack's buildpackage configuration (buildpack package, extension package)",
  schema,
  check(config) {
    const findings: Finding[] = [];
    if (config.buildpack && config.extension) {
      findings.push({ path: [], message: "has both [buildpack] and [extension]: give one" });
    } else if (!config.buildpack && !config.extension) {
      findings.push({ path: [], message: "has neither [buildpack] nor [extension]: give one" });
    }
    if (config.extension && config.dependencies?.length) {
      findings.push({
        path: ["dependencies"],
        message: "is not allowed with [extension] (extensions cannot be composite)",
      });
    }
    for (const [i, dep] of (config.dependencies ?? []).entries()) {
      if (dep.uri && dep.image) {
        findings.push({ path: ["dependencies", i], message: "has both uri and image: give one" });
      } else if (!dep.uri && !dep.image) {
        findings.push({ path: ["dependencies", i], message: "has neither uri nor image: give one" });
      }
    }
    return findings;
  },
};
