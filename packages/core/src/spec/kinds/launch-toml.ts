/**
 * launch.toml: a buildpack's labels, processes and slices (shared/spec/files.md 2.5, buildpack.md 8).
 * Read against the Buildpack API of the buildpack that wrote it.
 */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding, SpecContext } from "../file-kind.js";
import { foundValue, processType, show } from "../schema.js";
import { checkLegacyBom, legacyBom } from "./build-toml.js";

const process = z.looseObject({
  type: processType,
  // an array from Buildpack API 0.9 on, one string before: which one is checked against the API below
  command: z.union([z.array(z.string()), z.string()], {
    error: (iss) => {
      if (iss.input === undefined) return "is required";
      if (Array.isArray(iss.input)) return "must be an array of strings";
      return `must be an array of strings (a string before Buildpack API 0.9), found ${foundValue(iss.input)}`;
    },
  }),
  args: z.array(z.string()).optional(),
  direct: z.boolean().optional(),
  default: z.boolean().optional(),
  "working-dir": z.string().optional(),
  "exec-env": z.array(z.string()).optional(),
});

const schema = z.looseObject({
  labels: z.array(z.looseObject({ key: z.string().min(1), value: z.string() })).optional(),
  processes: z.array(process).optional(),
  slices: z.array(z.looseObject({ paths: z.array(z.string()).optional() })).optional(),
  bom: legacyBom,
});

export type LaunchMetadataFile = z.infer<typeof schema>;
export type LaunchProcess = z.infer<typeof process>;

function checkProcess(p: LaunchProcess, i: number, api: string): Finding[] {
  const findings: Finding[] = [];
  const at = (key: string) => ["processes", i, key];
  if (apiAtLeast(api, "0.9")) {
    if (typeof p.command === "string") {
      findings.push({
        path: at("command"),
        message: `must be an array of strings since Buildpack API 0.9, found a string ${show(p.command)}`,
      });
    } else if (p.command.length === 0) {
      findings.push({ path: at("command"), message: "must have at least 1 entry" });
    }
    if (p.direct !== undefined) {
      findings.push({
        path: at("direct"),
        message: "is not allowed since Buildpack API 0.9 (processes are always direct)",
      });
    }
  } else if (Array.isArray(p.command)) {
    findings.push({
      path: at("command"),
      message: "must be a string before Buildpack API 0.9, found an array",
    });
  } else if (p.command === "") {
    findings.push({ path: at("command"), message: "must not be empty" });
  }
  if (p["working-dir"] !== undefined && !apiAtLeast(api, "0.8")) {
    findings.push({
      path: at("working-dir"),
      message: "is ignored before Buildpack API 0.8",
      severity: "warning",
    });
  }
  if (p["exec-env"] !== undefined && !apiAtLeast(api, "0.12")) {
    findings.push({
      path: at("exec-env"),
      message: "needs Buildpack API 0.12 or newer",
      severity: "warning",
    });
  }
  return findings;
}

/** Process types are unique and at most one process is the default, within one buildpack. */
function checkProcessSet(processes: readonly LaunchProcess[]): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  let firstDefault: number | undefined;
  for (const [i, p] of processes.entries()) {
    const earlier = seen.get(p.type);
    if (earlier === undefined) seen.set(p.type, i);
    else {
      findings.push({
        path: ["processes", i, "type"],
        message: `${show(p.type)} is already the type of processes[${earlier}] (types are unique per buildpack)`,
      });
    }
    if (!p.default) continue;
    if (firstDefault === undefined) firstDefault = i;
    else {
      findings.push({
        path: ["processes", i, "default"],
        message: `makes a second default process (processes[${firstDefault}] is one already; at most one per buildpack)`,
      });
    }
  }
  return findings;
}

/** Label keys should be unique within a buildpack; the Go lifecycle keeps the last one. */
function checkLabels(labels: LaunchMetadataFile["labels"]): Finding[] {
  const seen = new Map<string, number>();
  return (labels ?? []).flatMap((label, i): Finding[] => {
    const earlier = seen.get(label.key);
    if (earlier === undefined) {
      seen.set(label.key, i);
      return [];
    }
    return [
      {
        path: ["labels", i, "key"],
        message: `${show(label.key)} is already the key of labels[${earlier}] (the last one wins)`,
        severity: "warning",
      },
    ];
  });
}

export const launchToml: FileKind<LaunchMetadataFile> = {
  name: "launch.toml",
  fileNames: ["launch.toml"],
  format: "toml",
  summary: "a buildpack's processes, labels and slices",
  schema,
  check(launch, ctx: SpecContext) {
    const api = ctx.buildpackApi ?? "0.12";
    const processes = launch.processes ?? [];
    return [
      ...checkLabels(launch.labels),
      ...processes.flatMap((p, i) => checkProcess(p, i, api)),
      ...checkProcessSet(processes),
      ...checkLegacyBom(launch.bom),
    ];
  },
};
