import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildToml, checkUnmet } from "./build-toml.js";

const messages = (text: string) =>
  parseSpec(buildToml, text, "build.toml").problems.map((p) => formatProblem(p));

const UNMET = `
[[unmet]]
  name = "yarn"
[[unmet]]
  name = "node-modules"
`;

describe("build.toml", () => {
  it("accepts unmet plan entries", () => {
    const parsed = parseSpec(buildToml, UNMET, "build.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.unmet).toEqual([{ name: "yarn" }, { name: "node-modules" }]);
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(buildToml, UNMET, "build.toml").value;
    const again = parseSpec(buildToml, serializeSpec(buildToml, first), "build.toml").value;
    expect(again).toEqual(first);
  });

  it("names an unmet entry without a name", () => {
    expect(messages(`[[unmet]]\n[[unmet]]\nname = ""\n[[unmet]]\nname = 3\n`)).toEqual([
      "build.toml: unmet[0].name is required",
      "build.toml: unmet[1].name must not be empty",
      `build.toml: unmet[2].name must be a string, found an integer 3 (quote it: "3")`,
    ]);
  });

  it("warns about the legacy BOM and refuses a top-level version in it", () => {
    const text = `[[bom]]\nname = "node"\n[bom.metadata]\nversion = "20"\n`;
    const parsed = parseSpec(buildToml, text, "build.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "build.toml: warning: bom is deprecated: write SBOM files (<layer>.sbom.<ext>, launch.sbom.<ext>, build.sbom.<ext>)",
    ]);
    expect(messages(`[[bom]]\nname = "node"\nversion = "20"\n`)).toEqual([
      "build.toml: warning: bom is deprecated: write SBOM files (<layer>.sbom.<ext>, launch.sbom.<ext>, build.sbom.<ext>)",
      `build.toml: bom[0].version "20" is not supported: use metadata.version instead`,
    ]);
  });

  it("checks unmet names against the buildpack plan", () => {
    const build = parseSpec(buildToml, UNMET, "build.toml").value ?? {};
    expect(checkUnmet(build, ["yarn", "node-modules"])).toEqual([]);
    expect(checkUnmet(build, ["yarn", "node"])).toEqual([
      { path: ["unmet", 1, "name"], message: `"node-modules" is not an entry of the buildpack plan` },
    ]);
  });
});
