import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { projectMetadataToml } from "./project-metadata-toml.js";

const FILE = "project-metadata.toml";
const messages = (text: string) => parseSpec(projectMetadataToml, text, FILE).problems.map(formatProblem);

const GIT = `
[source]
  type = "git"
  [source.version]
    commit = "3f2a9c1"
    describe = "v1.4.0-3-g3f2a9c1"
  [source.metadata]
    refs = ["main", "v1.4.0"]
    url = "https://git.example/app.git"
`;

describe("project-metadata.toml", () => {
  it("reads the source's type, version and metadata", () => {
    const parsed = parseSpec(projectMetadataToml, GIT, FILE);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.source).toEqual({
      type: "git",
      version: { commit: "3f2a9c1", describe: "v1.4.0-3-g3f2a9c1" },
      metadata: { refs: ["main", "v1.4.0"], url: "https://git.example/app.git" },
    });
  });

  it("accepts an empty file (every value is optional)", () => {
    expect(parseSpec(projectMetadataToml, "", FILE).value).toEqual({});
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(projectMetadataToml, GIT, FILE).value;
    const again = parseSpec(projectMetadataToml, serializeSpec(projectMetadataToml, first), FILE).value;
    expect(again).toEqual(first);
  });

  it("names wrong types", () => {
    expect(messages(`source = "git"\n`)).toEqual([
      `project-metadata.toml: source must be a table, found a string "git"`,
    ]);
    expect(messages(`[source]\ntype = 1\nversion = "3f2a9c1"\n`)).toEqual([
      `project-metadata.toml: source.type must be a string, found an integer 1 (quote it: "1")`,
      `project-metadata.toml: source.version must be a table, found a string "3f2a9c1"`,
    ]);
  });
});
