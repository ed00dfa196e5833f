/**
 * `<layers>/config/metadata.toml`: the builder's record of the group, processes, slices and labels; the
 * launcher's input, exported in the config layer (files.md 1.7). Read against the Platform API.
 */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding } from "../file-kind.js";
import { matching, show } from "../schema.js";
import { groupElement } from "./group-toml.js";

const processType = matching(
  /^[A-Za-z0-9._-]+$/,
  "is not a valid process type (letters, digits, '.', '_', '-')",
);

/** A group module; Go may also write `optional`, which means nothing here. */
const moduleElement = groupElement.extend({ optional: z.boolean().optional() });

const process = z.looseObject({
  type: processType,
  // an array from Platform API 0.10 on, one string before; readers take both, check() flags the other
  command: z.union([z.array(z.string()), z.string()], {
    error: (iss) =>
      Array.isArray(iss.input)
        ? "must be an array of strings"
        : `must be an array of strings (a string before Platform API 0.10), found ${show(iss.input)}`,
  }),
  args: z.array(z.string()).optional(),
  direct: z.boolean().optional(),
  default: z.boolean().optional(),
  "buildpack-id": z.string().optional(),
  "working-dir": z.string().optional(),
  "exec-env": z.array(z.string()).optional(),
});

const schema = z.looseObject({
  "buildpack-default-process-type": processType.optional(),
  buildpacks: z.array(moduleElement).optional(),
  extensions: z.array(moduleElement).optional(),
  labels: z.array(z.looseObject({ key: z.string().min(1), value: z.string() })).optional(),
  processes: z.array(process).optional(),
  slices: z.array(z.looseObject({ paths: z.array(z.string()).optional() })).optional(),
  bom: z.array(z.unknown()).optional(),
});

export type BuildMetadataFile = z.infer<typeof schema>;
export type BuildMetadataProcess = z.infer<typeof process>;

function checkCommand(p: BuildMetadataProcess, path: (string | number)[], api: string): Finding[] {
  const { command } = p;
  if (command.length === 0) {
    const message = typeof command === "string" ? "must not be empty" : "must have at least 1 entry";
    return [{ path, message }];
  }
  if (apiAtLeast(api, "0.10") && typeof command === "string") {
    return [
      {
        path,
        message: `should be an array of strings from Platform API 0.10 on, found a string ${show(command)}`,
        severity: "warning",
      },
    ];
  }
  if (!apiAtLeast(api, "0.10") && Array.isArray(command)) {
    return [
      {
        path,
        message: "should be a string before Platform API 0.10 (further words go in args), found an array",
        severity: "warning",
      },
    ];
  }
  return [];
}

function checkProcess(p: BuildMetadataProcess, i: number, md: BuildMetadataFile, api: string): Finding[] {
  const at = (key: string) => ["processes", i, key];
  const findings = checkCommand(p, at("command"), api);
  if (p["exec-env"] !== undefined && !apiAtLeast(api, "0.15")) {
    findings.push({ path: at("exec-env"), message: "needs Platform API 0.15 or newer", severity: "warning" });
  }
  const bpId = p["buildpack-id"];
  if (bpId !== undefined && md.buildpacks && !md.buildpacks.some((bp) => bp.id === bpId)) {
    findings.push({
      path: at("buildpack-id"),
      message: `${show(bpId)} is not one of the [[buildpacks]]`,
      severity: "warning",
    });
  }
  if ("buildpackID" in p && bpId === undefined) {
    findings.push({
      path: at("buildpackID"),
      message: `is the label's JSON spelling: metadata.toml calls it "buildpack-id" (ignored)`,
      severity: "warning",
    });
  }
  return findings;
}

export const metadataToml: FileKind<BuildMetadataFile> = {
  name: "metadata.toml",
  fileNames: ["metadata.toml"],
  format: "toml",
  summary: "builder output (<layers>/config/metadata.toml): group, processes, slices, labels",
  schema,
  check(md, ctx) {
    const api = ctx.platformApi ?? "0.15";
    const findings = (md.processes ?? []).flatMap((p, i) => checkProcess(p, i, md, api));
    const defaultType = md["buildpack-default-process-type"];
    if (defaultType !== undefined && !md.processes?.some((p) => p.type === defaultType)) {
      findings.push({
        path: ["buildpack-default-process-type"],
        message: `${show(defaultType)} is not the type of any process`,
        severity: "warning",
      });
    }
    if (md.bom?.length && apiAtLeast(api, "0.9")) {
      findings.push({
        path: ["bom"],
        message: "is only written before Platform API 0.9 (SBOM files replace it)",
        severity: "warning",
      });
    }
    return findings;
  },
};
