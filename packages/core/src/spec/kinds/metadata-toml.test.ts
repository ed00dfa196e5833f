import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { metadataToml } from "./metadata-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(metadataToml, text, "metadata.toml", ctx).problems.map(formatProblem);

const NODE = `
buildpack-default-process-type = "web"

[[buildpacks]]
  id = "example/node"
  version = "1.0.0"
  api = "0.10"
  homepage = "https://example.com/node"
[[buildpacks]]
  id = "example/procfile"
  version = "2.1.0"
  api = "0.9"
  optional = true

[[extensions]]
  id = "example/apt"
  version = "0.1.0"
  api = "0.10"

[[labels]]
  key = "org.example.team"
  value = "web"

[[processes]]
  type = "web"
  command = ["node", "server.js"]
  args = ["--port", "8080"]
  direct = true
  buildpack-id = "example/node"

[[processes]]
  type = "worker"
  command = ["node"]
  args = ["worker.js"]
  direct = true
  buildpack-id = "example/node"
  working-dir = "/workspace/jobs"
  exec-env = ["production"]

[[slices]]
  paths = ["public/*", "node_modules"]
`;

/** As a Platform API 0.9 builder wrote it: the command a single string, the rest in args. */
const OLD = `
[[buildpacks]]
  id = "example/node"
  version = "1.0.0"
  api = "0.8"

[[processes]]
  type = "web"
  command = "node"
  args = ["server.js"]
  direct = false
  buildpack-id = "example/node"

[[bom]]
  name = "node"
`;

describe("metadata.toml", () => {
  it("reads the group, labels, processes and slices", () => {
    const parsed = parseSpec(metadataToml, NODE, "metadata.toml");
    expect(parsed.problems).toEqual([]);
    const md = parsed.value;
    expect(md?.["buildpack-default-process-type"]).toBe("web");
    expect(md?.buildpacks?.[1]).toEqual({
      id: "example/procfile",
      version: "2.1.0",
      api: "0.9",
      optional: true,
    });
    expect(md?.extensions?.[0]?.id).toBe("example/apt");
    expect(md?.labels).toEqual([{ key: "org.example.team", value: "web" }]);
    expect(md?.processes?.[1]).toEqual({
      type: "worker",
      command: ["node"],
      args: ["worker.js"],
      direct: true,
      "buildpack-id": "example/node",
      "working-dir": "/workspace/jobs",
      "exec-env": ["production"],
    });
    expect(md?.slices).toEqual([{ paths: ["public/*", "node_modules"] }]);
  });

  it("reads the string command of Platform API < 0.10", () => {
    const parsed = parseSpec(metadataToml, OLD, "metadata.toml", { platformApi: "0.8" });
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.processes?.[0]?.command).toBe("node");
    expect(parsed.value?.bom).toEqual([{ name: "node" }]);
  });

  it("round-trips through TOML", () => {
    for (const text of [NODE, OLD]) {
      const first = parseSpec(metadataToml, text, "metadata.toml").value;
      const again = parseSpec(metadataToml, serializeSpec(metadataToml, first), "metadata.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("accepts either command form but flags the one the Platform API does not write", () => {
    const newer = parseSpec(metadataToml, OLD, "metadata.toml", { platformApi: "0.10" });
    expect(newer.ok).toBe(true);
    expect(newer.problems.map(formatProblem)).toEqual([
      `metadata.toml: warning: processes[0].command should be an array of strings from Platform API 0.10 on, found a string "node"`,
      "metadata.toml: warning: bom is only written before Platform API 0.9 (SBOM files replace it)",
    ]);
    const older = parseSpec(metadataToml, NODE, "metadata.toml", { platformApi: "0.9" });
    expect(older.ok).toBe(true);
    expect(older.problems.map(formatProblem)).toEqual([
      "metadata.toml: warning: processes[0].command should be a string before Platform API 0.10 (further words go in args), found an array",
      "metadata.toml: warning: processes[1].command should be a string before Platform API 0.10 (further words go in args), found an array",
      "metadata.toml: warning: processes[1].exec-env needs Platform API 0.15 or newer",
    ]);
  });

  it("names each wrong value", () => {
    const text = `
buildpack-default-process-type = "web server"
[[buildpacks]]
  id = "example/node"
  api = "latest"
[[labels]]
  key = "org.example.team"
[[processes]]
  type = "web"
  command = 1
[[processes]]
  type = "worker"
  command = ["node", 2]
  direct = "yes"
[[slices]]
  paths = "public/*"
`;
    expect(messages(text)).toEqual([
      `metadata.toml: buildpack-default-process-type "web server" is not a valid process type (letters, digits, '.', '_', '-')`,
      "metadata.toml: buildpacks[0].version is required",
      `metadata.toml: buildpacks[0].api "latest" is not an API version (<major>.<minor>, e.g. "0.10")`,
      "metadata.toml: labels[0].value is required",
      "metadata.toml: processes[0].command must be an array of strings (a string before Platform API 0.10), found 1",
      "metadata.toml: processes[1].command must be an array of strings",
      `metadata.toml: processes[1].direct must be a boolean (true or false), found a string "yes"`,
      `metadata.toml: slices[0].paths must be an array, found a string "public/*"`,
    ]);
  });

  it("refuses an empty command", () => {
    const text = `[[processes]]\ntype = "web"\ncommand = []\n[[processes]]\ntype = "old"\ncommand = ""\n`;
    expect(messages(text)).toEqual([
      "metadata.toml: processes[0].command must have at least 1 entry",
      "metadata.toml: processes[1].command must not be empty",
    ]);
  });

  it("warns about references to processes and buildpacks that are not there", () => {
    const text = `
buildpack-default-process-type = "web"
[[buildpacks]]
  id = "example/node"
  version = "1.0.0"
  api = "0.10"
[[processes]]
  type = "worker"
  command = ["node", "worker.js"]
  buildpack-id = "example/python"
[[processes]]
  type = "task"
  command = ["node", "task.js"]
  buildpackID = "example/node"
`;
    const parsed = parseSpec(metadataToml, text, "metadata.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      `metadata.toml: warning: processes[0].buildpack-id "example/python" is not one of the [[buildpacks]]`,
      `metadata.toml: warning: processes[1].buildpackID is the label's JSON spelling: metadata.toml calls it "buildpack-id" (ignored)`,
      `metadata.toml: warning: buildpack-default-process-type "web" is not the type of any process`,
    ]);
  });

  it("allows one type twice (Platform API 0.15 picks by exec-env)", () => {
    const text = `
[[processes]]
  type = "web"
  command = ["node", "server.js"]
  exec-env = ["production"]
[[processes]]
  type = "web"
  command = ["node", "--watch", "server.js"]
  exec-env = ["development"]
`;
    expect(messages(text)).toEqual([]);
  });
});
