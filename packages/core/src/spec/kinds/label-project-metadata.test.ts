import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { projectMetadataLabel } from "./label-project-metadata.js";

const LABEL = "io.buildpacks.project.metadata";
const messages = (value: unknown) =>
  parseSpec(projectMetadataLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const GIT = {
  source: {
    type: "git",
    version: { commit: "3f2a9c1", describe: "v1.4.0-3-g3f2a9c1" },
    metadata: { refs: ["main", "v1.4.0"], url: "https://git.example/app.git" },
  },
};

describe(LABEL, () => {
  it("accepts pack's git source metadata", () => {
    const parsed = parseSpec(projectMetadataLabel, JSON.stringify(GIT), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.source?.type).toBe("git");
    expect(parsed.value?.source?.version?.commit).toBe("3f2a9c1");
  });

  it("accepts {} when there was no project-metadata.toml", () => {
    expect(parseSpec(projectMetadataLabel, "{}", LABEL)).toEqual({ ok: true, value: {}, problems: [] });
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(projectMetadataLabel, JSON.stringify(GIT), LABEL).value;
    const again = parseSpec(projectMetadataLabel, serializeSpec(projectMetadataLabel, first), LABEL).value;
    expect(again).toEqual(GIT);
  });

  it("names invalid values", () => {
    expect(messages({ source: { type: 1, version: "3f2a9c1" } })).toEqual([
      `${LABEL}: source.type must be a string, found an integer 1 (quote it: "1")`,
      `${LABEL}: source.version must be a table, found a string "3f2a9c1"`,
    ]);
  });
});
