import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildpackageMetadataLabel } from "./label-buildpackage-metadata.js";

const LABEL = "io.buildpacks.buildpackage.metadata";
const messages = (value: unknown) =>
  parseSpec(buildpackageMetadataLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const PACKAGE = {
  id: "example/js",
  version: "3.0.0",
  name: "JavaScript",
  homepage: "https://example.com/js",
  licenses: [{ type: "Apache-2.0" }],
  stacks: [{ id: "*" }],
};

describe(LABEL, () => {
  it("accepts pack's label for a composite buildpack", () => {
    const parsed = parseSpec(buildpackageMetadataLabel, JSON.stringify(PACKAGE), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.id).toBe("example/js");
    expect(parsed.value?.stacks).toEqual([{ id: "*" }]);
  });

  it("accepts null stacks, as pack writes them for target-based modules", () => {
    expect(messages({ id: "example/apt", version: "0.1.0", stacks: null })).toEqual([]);
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(buildpackageMetadataLabel, JSON.stringify(PACKAGE), LABEL).value;
    const again = parseSpec(
      buildpackageMetadataLabel,
      serializeSpec(buildpackageMetadataLabel, first),
      LABEL,
    ).value;
    expect(again).toEqual(PACKAGE);
  });

  it("names invalid values", () => {
    expect(messages({ version: "", licenses: [{}], stacks: [{ mixins: ["build:git"] }] })).toEqual([
      `${LABEL}: id is required`,
      `${LABEL}: version must not be empty`,
      `${LABEL}: licenses[0] must have a type, a uri, or both`,
      `${LABEL}: stacks[0].id is required`,
    ]);
  });
});
