import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { groupToml } from "./group-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(groupToml, text, "group.toml", ctx).problems.map(formatProblem);

const GROUP = `
[[group]]
  id = "example/node"
  version = "1.0.0"
  api = "0.10"
  homepage = "https://example.com/node"
[[group]]
  id = "example/procfile"
  version = "2.1.0"
  api = "0.9"
[[group-extensions]]
  id = "example/apt"
  version = "0.1.0"
  api = "0.10"
`;

describe("group.toml", () => {
  it("reads buildpacks and extensions with their APIs", () => {
    const parsed = parseSpec(groupToml, GROUP, "group.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.group[0]).toEqual({
      id: "example/node",
      version: "1.0.0",
      api: "0.10",
      homepage: "https://example.com/node",
    });
    expect(parsed.value?.["group-extensions"]).toEqual([
      { id: "example/apt", version: "0.1.0", api: "0.10" },
    ]);
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(groupToml, GROUP, "group.toml").value;
    const again = parseSpec(groupToml, serializeSpec(groupToml, first), "group.toml").value;
    expect(again).toEqual(first);
  });

  it("requires id, version and api on every module", () => {
    const text = `
[[group]]
  id = "example/node"
  api = "latest"
[[group-extensions]]
  id = "example/apt"
  version = "0.1.0"
`;
    expect(messages(text)).toEqual([
      "group.toml: group[0].version is required",
      `group.toml: group[0].api "latest" is not an API version (<major>.<minor>, e.g. "0.10")`,
      "group.toml: group-extensions[0].api is required",
    ]);
  });

  it("requires at least one buildpack", () => {
    expect(messages("")).toEqual(["group.toml: group is required"]);
    expect(messages("group = []\n")).toEqual(["group.toml: group must have at least 1 entry"]);
  });

  it("warns about extensions before Platform API 0.10", () => {
    expect(messages(GROUP, { platformApi: "0.9" })).toEqual([
      "group.toml: warning: group-extensions needs Platform API 0.10 or newer",
    ]);
  });
});
