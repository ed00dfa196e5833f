import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { planToml } from "./plan-toml.js";

const messages = (text: string) => parseSpec(planToml, text, "plan.toml").problems.map(formatProblem);

const PLAN = `
[[entries]]
  [[entries.providers]]
    id = "example/node"
    version = "1.0.0"
  [[entries.requires]]
    name = "node"
    [entries.requires.metadata]
      version = "20.x"
      launch = true
  [[entries.requires]]
    name = "node"

[[entries]]
  [[entries.providers]]
    id = "example/apt"
    version = "0.1.0"
    extension = true
  [[entries.requires]]
    name = "curl"
`;

describe("plan.toml", () => {
  it("reads providers and requirements", () => {
    const parsed = parseSpec(planToml, PLAN, "plan.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.entries?.[0]?.requires[0]).toEqual({
      name: "node",
      metadata: { version: "20.x", launch: true },
    });
    expect(parsed.value?.entries?.[1]?.providers[0]).toEqual({
      id: "example/apt",
      version: "0.1.0",
      extension: true,
    });
  });

  it("accepts an empty plan", () => {
    expect(parseSpec(planToml, "entries = []\n", "plan.toml").problems).toEqual([]);
    expect(parseSpec(planToml, "", "plan.toml").problems).toEqual([]);
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(planToml, PLAN, "plan.toml").value;
    const again = parseSpec(planToml, serializeSpec(planToml, first), "plan.toml").value;
    expect(again).toEqual(first);
  });

  it("requires a provider and a requirement in every entry", () => {
    const text = `
[[entries]]
  providers = []
[[entries]]
  [[entries.providers]]
    id = "example/node"
  [[entries.requires]]
    metadata = "20.x"
`;
    expect(messages(text)).toEqual([
      "plan.toml: entries[0].providers must have at least 1 entry",
      "plan.toml: entries[0].requires is required",
      "plan.toml: entries[1].providers[0].version is required",
      "plan.toml: entries[1].requires[0].name is required",
      `plan.toml: entries[1].requires[0].metadata must be a table, found a string "20.x"`,
    ]);
  });

  it("refuses requirements of different names in one entry", () => {
    const text = `
[[entries]]
  [[entries.providers]]
    id = "example/node"
    version = "1.0.0"
  [[entries.requires]]
    name = "node"
  [[entries.requires]]
    name = "yarn"
`;
    expect(messages(text)).toEqual([
      `plan.toml: entries[0].requires[1].name "yarn" differs from entries[0].requires[0].name "node" (an entry's requires all name one dependency)`,
    ]);
  });
});
