import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { launchToml } from "./launch-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(launchToml, text, "launch.toml", ctx).problems.map((p) => formatProblem(p));

const NODE = `
[[labels]]
  key = "org.example.runtime"
  value = "node"

[[processes]]
  type = "web"
  command = ["node", "server.js"]
  args = ["--port", "8080"]
  default = true

[[processes]]
  type = "test"
  command = ["npm", "test"]
  exec-env = ["test"]

[[processes]]
  type = "worker.v2"
  command = ["node"]
  args = ["worker.js"]
  working-dir = "/workspace/jobs"

[[slices]]
  paths = ["public/*"]
`;

const LEGACY = `
[[processes]]
  type = "web"
  command = "node server.js"
  direct = false
`;

describe("launch.toml", () => {
  it("accepts labels, processes and slices as a current buildpack writes them", () => {
    const parsed = parseSpec(launchToml, NODE, "launch.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.labels).toEqual([{ key: "org.example.runtime", value: "node" }]);
    expect(parsed.value?.processes?.[0]).toEqual({
      type: "web",
      command: ["node", "server.js"],
      args: ["--port", "8080"],
      default: true,
    });
    expect(parsed.value?.processes?.[1]?.["exec-env"]).toEqual(["test"]);
    expect(parsed.value?.processes?.[2]?.["working-dir"]).toBe("/workspace/jobs");
    expect(parsed.value?.slices).toEqual([{ paths: ["public/*"] }]);
  });

  it("accepts a string command and direct before Buildpack API 0.9", () => {
    const parsed = parseSpec(launchToml, LEGACY, "launch.toml", { buildpackApi: "0.8" });
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.processes?.[0]?.command).toBe("node server.js");
    expect(parsed.value?.processes?.[0]?.direct).toBe(false);
  });

  it("round-trips through TOML", () => {
    for (const [text, ctx] of [
      [NODE, {}],
      [LEGACY, { buildpackApi: "0.7" }],
    ] as const) {
      const first = parseSpec(launchToml, text, "launch.toml", ctx).value;
      const again = parseSpec(launchToml, serializeSpec(launchToml, first), "launch.toml", ctx).value;
      expect(again).toEqual(first);
    }
  });

  it("names invalid process types and badly typed fields", () => {
    expect(
      messages(
        `[[processes]]\ntype = "we b"\ncommand = ["a", 1]\n[[processes]]\ntype = "x"\ncommand = 5\n` +
          `[[processes]]\ntype = "y"\n[[labels]]\nkey = "a"\n`,
      ),
    ).toEqual([
      "launch.toml: labels[0].value is required",
      `launch.toml: processes[0].type "we b" is not a valid process type (letters, digits, '.', '_', '-')`,
      "launch.toml: processes[0].command must be an array of strings",
      "launch.toml: processes[1].command must be an array of strings (a string before Buildpack API 0.9), found an integer 5",
      "launch.toml: processes[2].command is required",
    ]);
  });

  it("refuses a string command and direct from Buildpack API 0.9 on (default context 0.12)", () => {
    expect(messages(LEGACY)).toEqual([
      `launch.toml: processes[0].command must be an array of strings since Buildpack API 0.9, found a string "node server.js"`,
      "launch.toml: processes[0].direct is not allowed since Buildpack API 0.9 (processes are always direct)",
    ]);
    expect(messages(LEGACY, { buildpackApi: "0.9" })).toHaveLength(2);
  });

  it("refuses an array command before Buildpack API 0.9 and empty commands", () => {
    expect(messages(`[[processes]]\ntype = "web"\ncommand = ["node"]\n`, { buildpackApi: "0.8" })).toEqual([
      "launch.toml: processes[0].command must be a string before Buildpack API 0.9, found an array",
    ]);
    expect(messages(`[[processes]]\ntype = "web"\ncommand = ""\n`, { buildpackApi: "0.8" })).toEqual([
      "launch.toml: processes[0].command must not be empty",
    ]);
    expect(messages(`[[processes]]\ntype = "web"\ncommand = []\n`)).toEqual([
      "launch.toml: processes[0].command must have at least 1 entry",
    ]);
  });

  it("refuses duplicate process types and a second default process", () => {
    expect(
      messages(
        `[[processes]]\ntype = "web"\ncommand = ["a"]\ndefault = true\n` +
          `[[processes]]\ntype = "worker"\ncommand = ["b"]\n` +
          `[[processes]]\ntype = "web"\ncommand = ["c"]\ndefault = true\n`,
      ),
    ).toEqual([
      `launch.toml: processes[2].type "web" is already the type of processes[0] (types are unique per buildpack)`,
      "launch.toml: processes[2].default makes a second default process (processes[0] is one already; at most one per buildpack)",
    ]);
  });

  it("warns about fields the declared Buildpack API does not know", () => {
    const text = `[[processes]]\ntype = "web"\ncommand = "node"\nworking-dir = "/app"\nexec-env = ["test"]\n`;
    const parsed = parseSpec(launchToml, text, "launch.toml", { buildpackApi: "0.7" });
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "launch.toml: warning: processes[0].working-dir is ignored before Buildpack API 0.8",
      "launch.toml: warning: processes[0].exec-env needs Buildpack API 0.12 or newer",
    ]);
    expect(messages(text.replace('"node"', '["node"]'), { buildpackApi: "0.11" })).toEqual([
      "launch.toml: warning: processes[0].exec-env needs Buildpack API 0.12 or newer",
    ]);
  });

  it("warns about duplicate label keys and the legacy BOM", () => {
    const parsed = parseSpec(
      launchToml,
      `[[labels]]\nkey = "a"\nvalue = "1"\n[[labels]]\nkey = "a"\nvalue = "2"\n[[bom]]\nname = "node"\n[bom.metadata]\nversion = "20"\n`,
      "launch.toml",
    );
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      `launch.toml: warning: labels[1].key "a" is already the key of labels[0] (the last one wins)`,
      "launch.toml: warning: bom is deprecated: write SBOM files (<layer>.sbom.<ext>, launch.sbom.<ext>, build.sbom.<ext>)",
    ]);
  });

  it("tolerates keys it does not know, as the lifecycle does", () => {
    const parsed = parseSpec(
      launchToml,
      `future = 1\n[[processes]]\ntype = "web"\ncommand = ["a"]\nnew = true\n`,
      "launch.toml",
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.future).toBe(1);
  });
});
