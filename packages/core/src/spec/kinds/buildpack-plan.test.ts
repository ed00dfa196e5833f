import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildpackPlan } from "./buildpack-plan.js";

const messages = (text: string) =>
  parseSpec(buildpackPlan, text, "plan.toml").problems.map((p) => formatProblem(p));

// two requirers of "node": one entry each
const PLAN = `
[[entries]]
  name = "node"
  [entries.metadata]
    version = "20.x"
    launch = true
[[entries]]
  name = "node"
  [entries.metadata]
    build = true
[[entries]]
  name = "yarn"
`;

describe("buildpack plan", () => {
  it("accepts entries with names and metadata", () => {
    const parsed = parseSpec(buildpackPlan, PLAN, "plan.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.entries?.map((e) => e.name)).toEqual(["node", "node", "yarn"]);
    expect(parsed.value?.entries?.[0]?.metadata).toEqual({ version: "20.x", launch: true });
    expect(parsed.value?.entries?.[2]?.metadata).toBeUndefined();
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(buildpackPlan, PLAN, "plan.toml").value;
    const again = parseSpec(buildpackPlan, serializeSpec(buildpackPlan, first), "plan.toml").value;
    expect(again).toEqual(first);
  });

  it("names missing names, bad metadata and top-level versions", () => {
    expect(
      messages(`[[entries]]\n[entries.metadata]\nversion = "1"\n[[entries]]\nname = "a"\nmetadata = 5\n`),
    ).toEqual([
      "plan.toml: entries[0].name is required",
      "plan.toml: entries[1].metadata must be a table, found an integer 5",
    ]);
    expect(messages(`[[entries]]\nname = "node"\nversion = "20"\n`)).toEqual([
      `plan.toml: entries[0].version "20" is not supported: use metadata.version instead`,
    ]);
  });
});
