import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { layerToml, layerTypes } from "./layer-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(layerToml, text, "node.toml", ctx).problems.map((p) => formatProblem(p));

const NODE = `
[types]
  launch = true
  build = false
  cache = true
[metadata]
  version = "20.11.0"
  checksum = "sha256:77aa"
  exec-env = ["production"]
`;

const RESTORED = `
[metadata]
  version = "20.11.0"
`;

describe("<layer>.toml", () => {
  it("accepts types and free-form metadata", () => {
    const parsed = parseSpec(layerToml, NODE, "node.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.types).toEqual({ launch: true, build: false, cache: true });
    expect(parsed.value?.metadata?.["exec-env"]).toEqual(["production"]);
    expect(layerTypes(parsed.value ?? {})).toEqual({ launch: true, build: false, cache: true });
  });

  it("accepts a restored file without [types]: every flag false", () => {
    const parsed = parseSpec(layerToml, RESTORED, "node.toml");
    expect(parsed.problems).toEqual([]);
    expect(layerTypes(parsed.value ?? {})).toEqual({ launch: false, build: false, cache: false });
  });

  it("round-trips through TOML", () => {
    for (const text of [NODE, RESTORED]) {
      const first = parseSpec(layerToml, text, "node.toml").value;
      const again = parseSpec(layerToml, serializeSpec(layerToml, first), "node.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("refuses layer flags at the top level, naming where they belong", () => {
    expect(messages(`launch = true\ncache = false\n[metadata]\nversion = "1"\n`)).toEqual([
      "node.toml: launch is not allowed at the top level: it belongs under [types]",
      "node.toml: cache is not allowed at the top level: it belongs under [types]",
    ]);
  });

  it("names badly typed flags and tables", () => {
    expect(messages(`metadata = "x"\n[types]\nbuild = "yes"\n`)).toEqual([
      `node.toml: types.build must be a boolean (true or false), found a string "yes"`,
      `node.toml: metadata must be a table, found a string "x"`,
    ]);
  });

  it("checks metadata.exec-env from Buildpack API 0.12 on, and only warns before", () => {
    expect(messages(`[metadata]\nexec-env = "test"\n`)).toEqual([
      `node.toml: metadata.exec-env must be an array of strings, found a string "test"`,
    ]);
    expect(messages(`[metadata]\nexec-env = [1]\n`, { buildpackApi: "0.12" })).toEqual([
      "node.toml: metadata.exec-env must be an array of strings, found an array",
    ]);
    const old = parseSpec(layerToml, `[metadata]\nexec-env = "anything"\n`, "node.toml", {
      buildpackApi: "0.11",
    });
    expect(old.ok).toBe(true);
    expect(old.problems.map(formatProblem)).toEqual([
      "node.toml: warning: metadata.exec-env needs Buildpack API 0.12 or newer",
    ]);
  });
});
