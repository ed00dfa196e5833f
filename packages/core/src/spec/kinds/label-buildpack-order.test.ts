import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildpackOrderLabel, orderExtensionsLabel } from "./label-buildpack-order.js";

const LABEL = "io.buildpacks.buildpack.order";
const messages = (value: unknown) =>
  parseSpec(buildpackOrderLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const ORDER = [
  {
    group: [
      { id: "example/node", version: "1.0.0" },
      { id: "example/procfile", version: "2.1.0", optional: true },
    ],
  },
  { group: [{ id: "example/static" }] },
];

describe(LABEL, () => {
  it("accepts a builder's order as pack writes it", () => {
    const parsed = parseSpec(buildpackOrderLabel, JSON.stringify(ORDER), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.length).toBe(2);
    expect(parsed.value?.[0]?.group[1]?.optional).toBe(true);
    expect(parsed.value?.[1]?.group[0]?.version).toBeUndefined();
  });

  it("reads io.buildpacks.buildpack.order-extensions with the same shape", () => {
    const ext = [{ group: [{ id: "example/apt", version: "0.1.0" }] }];
    const parsed = parseSpec(
      orderExtensionsLabel,
      JSON.stringify(ext),
      "io.buildpacks.buildpack.order-extensions",
    );
    expect(parsed.value).toEqual(ext);
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(buildpackOrderLabel, JSON.stringify(ORDER), LABEL).value;
    const again = parseSpec(buildpackOrderLabel, serializeSpec(buildpackOrderLabel, first), LABEL).value;
    expect(again).toEqual(ORDER);
  });

  it("names invalid values", () => {
    expect(messages([{ group: [{ id: "Example Node", optional: "yes" }] }, {}])).toEqual([
      `${LABEL}: [0].group[0].id "Example Node" is not a valid id (letters, digits, '.', '/', '-')`,
      `${LABEL}: [0].group[0].optional must be a boolean (true or false), found a string "yes"`,
      `${LABEL}: [1].group is required`,
    ]);
  });
});
