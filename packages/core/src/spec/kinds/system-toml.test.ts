import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { systemToml } from "./system-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(systemToml, text, "system.toml", ctx).problems.map(formatProblem);

const SYSTEM = `
[[system.pre.buildpacks]]
  id = "example/ca-certs"
  version = "1.0.0"
[[system.post.buildpacks]]
  id = "example/sbom-scan"
  version = "0.2.0"
  optional = true
`;

describe("system.toml", () => {
  it("reads pre and post buildpacks", () => {
    const parsed = parseSpec(systemToml, SYSTEM, "system.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.system?.pre?.buildpacks).toEqual([{ id: "example/ca-certs", version: "1.0.0" }]);
    expect(parsed.value?.system?.post?.buildpacks?.[0]?.optional).toBe(true);
  });

  it("reads a file with nothing in it as no system buildpacks", () => {
    const parsed = parseSpec(systemToml, "", "system.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.value).toEqual({});
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(systemToml, SYSTEM, "system.toml").value;
    const again = parseSpec(systemToml, serializeSpec(systemToml, first), "system.toml").value;
    expect(again).toEqual(first);
  });

  it("requires an id and a version", () => {
    const text = `[[system.pre.buildpacks]]\nid = "example/ca-certs"\n[[system.post.buildpacks]]\nversion = 1\n`;
    expect(messages(text)).toEqual([
      "system.toml: system.pre.buildpacks[0].version is required",
      "system.toml: system.post.buildpacks[0].id is required",
      `system.toml: system.post.buildpacks[0].version must be a string, found an integer 1 (quote it: "1")`,
    ]);
  });

  it("warns that lifecycles before Platform API 0.15 ignore it", () => {
    expect(messages(SYSTEM, { platformApi: "0.14" })).toEqual([
      "system.toml: warning: needs Platform API 0.15 or newer (older lifecycles have no system buildpacks)",
    ]);
  });
});
