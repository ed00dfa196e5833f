import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { orderToml } from "./order-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(orderToml, text, "order.toml", ctx).problems.map(formatProblem);

const ORDER = `
[[order]]
  [[order.group]]
    id = "example/node"
    version = "1.0.0"
  [[order.group]]
    id = "example/procfile"
    version = "2.1.0"
    optional = true

[[order]]
  [[order.group]]
    id = "example/static"
    version = "0.3.0"

[[order-extensions]]
  [[order-extensions.group]]
    id = "example/apt"
    version = "0.1.0"
`;

describe("order.toml", () => {
  it("reads buildpack and extension groups", () => {
    const parsed = parseSpec(orderToml, ORDER, "order.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.order).toHaveLength(2);
    expect(parsed.value?.order?.[0]?.group[1]).toEqual({
      id: "example/procfile",
      version: "2.1.0",
      optional: true,
    });
    expect(parsed.value?.["order-extensions"]?.[0]?.group).toEqual([{ id: "example/apt", version: "0.1.0" }]);
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(orderToml, ORDER, "order.toml").value;
    const again = parseSpec(orderToml, serializeSpec(orderToml, first), "order.toml").value;
    expect(again).toEqual(first);
  });

  it("requires an id and a version on every entry", () => {
    const text = `
[[order]]
  [[order.group]]
    id = "example/node"
  [[order.group]]
    version = "1.0.0"
    optional = "no"
[[order-extensions]]
  [[order-extensions.group]]
    id = "Example APT"
    version = ""
`;
    expect(messages(text)).toEqual([
      "order.toml: order[0].group[0].version is required",
      "order.toml: order[0].group[1].id is required",
      `order.toml: order[0].group[1].optional must be a boolean (true or false), found a string "no"`,
      `order.toml: order-extensions[0].group[0].id "Example APT" is not a valid id (letters, digits, '.', '/', '-')`,
      "order.toml: order-extensions[0].group[0].version must not be empty",
    ]);
  });

  it("refuses an empty group", () => {
    expect(messages(`[[order]]\ngroup = []\n`)).toEqual([
      "order.toml: order[0].group must have at least 1 entry",
    ]);
  });

  it("warns when there is nothing to detect, and about optional = false on an extension", () => {
    const text = `[[order-extensions]]\n[[order-extensions.group]]\nid = "example/apt"\nversion = "0.1.0"\noptional = false\n`;
    const parsed = parseSpec(orderToml, text, "order.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "order.toml: warning: order is empty: detection has no group to try",
      "order.toml: warning: order-extensions[0].group[0].optional is ignored: extensions are always optional",
    ]);
  });

  it("warns about extensions before Platform API 0.10", () => {
    expect(messages(ORDER, { platformApi: "0.9" })).toEqual([
      "order.toml: warning: order-extensions needs Platform API 0.10 or newer",
    ]);
  });
});
