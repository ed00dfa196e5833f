import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildPlan, checkExtensionPlan } from "./build-plan.js";

const messages = (text: string) =>
  parseSpec(buildPlan, text, "plan.toml").problems.map((p) => formatProblem(p));

const NODE = `
[[provides]]
  name = "node"
[[requires]]
  name = "node"
  [requires.metadata]
    version = "20.x"
    launch = true

[[or]]
  [[or.provides]]
    name = "node"
  [[or.requires]]
    name = "node"
    [or.requires.metadata]
      version = "18.x"
`;

describe("build plan", () => {
  it("accepts provides, requires with metadata and [[or]] alternatives", () => {
    const parsed = parseSpec(buildPlan, NODE, "plan.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.provides).toEqual([{ name: "node" }]);
    expect(parsed.value?.requires?.[0]).toEqual({
      name: "node",
      metadata: { version: "20.x", launch: true },
    });
    expect(parsed.value?.or?.[0]?.requires?.[0]?.metadata).toEqual({ version: "18.x" });
  });

  it("accepts an empty plan", () => {
    expect(parseSpec(buildPlan, "", "plan.toml")).toEqual({ ok: true, value: {}, problems: [] });
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(buildPlan, NODE, "plan.toml").value;
    const again = parseSpec(buildPlan, serializeSpec(buildPlan, first), "plan.toml").value;
    expect(again).toEqual(first);
  });

  it("refuses a version key directly in a require, also in [[or]]", () => {
    expect(
      messages(
        `[[requires]]\nname = "node"\nversion = "20"\n[[or]]\n[[or.requires]]\nname = "a"\n[[or.requires]]\nname = "b"\nversion = 3\n`,
      ),
    ).toEqual([
      `plan.toml: requires[0].version "20" is not supported: use metadata.version instead`,
      "plan.toml: or[0].requires[1].version 3 is not supported: use metadata.version instead",
    ]);
  });

  it("names missing and badly typed fields", () => {
    expect(
      messages(`[[provides]]\nname = ""\n[[requires]]\nmetadata = "20"\n[[or]]\nprovides = "x"\n`),
    ).toEqual([
      "plan.toml: provides[0].name must not be empty",
      "plan.toml: requires[0].name is required",
      `plan.toml: requires[0].metadata must be a table, found a string "20"`,
      `plan.toml: or[0].provides must be an array, found a string "x"`,
    ]);
  });

  it("refuses requires in an image extension's plan", () => {
    const plan = parseSpec(buildPlan, NODE, "plan.toml").value ?? {};
    expect(checkExtensionPlan(plan)).toEqual([
      { path: ["requires"], message: "is not allowed in an image extension's build plan" },
      { path: ["or", 0, "requires"], message: "is not allowed in an image extension's build plan" },
    ]);
    expect(checkExtensionPlan({ provides: [{ name: "node" }], or: [{ provides: [{ name: "n" }] }] })).toEqual(
      [],
    );
  });
});
