import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { cacheMetadataLabel } from "./label-lifecycle-cache-metadata.js";

const LABEL = "io.buildpacks.lifecycle.cache.metadata";
const sha = (c: string) => `sha256:${c.repeat(64)}`;
const messages = (value: unknown) =>
  parseSpec(cacheMetadataLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const CACHE = {
  sbom: { sha: sha("7") },
  buildpacks: [
    {
      key: "example/node",
      version: "1.0.0",
      layers: {
        node: { sha: sha("f"), data: { version: "20.11.0" }, build: false, launch: true, cache: true },
        "npm-cache": { sha: sha("1"), data: {}, build: false, launch: false, cache: true },
      },
    },
  ],
};

describe(LABEL, () => {
  it("accepts the cache record a restorer reads", () => {
    const parsed = parseSpec(cacheMetadataLabel, JSON.stringify(CACHE), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(Object.keys(parsed.value?.buildpacks?.[0]?.layers ?? {})).toEqual(["node", "npm-cache"]);
    expect(parsed.value?.buildpacks?.[0]?.layers?.["npm-cache"]?.cache).toBe(true);
  });

  it("accepts an empty cache as Go writes it", () => {
    expect(messages({ sbom: { sha: "" }, buildpacks: null })).toEqual([]);
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(cacheMetadataLabel, JSON.stringify(CACHE), LABEL).value;
    const again = parseSpec(cacheMetadataLabel, serializeSpec(cacheMetadataLabel, first), LABEL).value;
    expect(again).toEqual(CACHE);
  });

  it("names invalid values", () => {
    expect(
      messages({ sbom: "sha256:7", buildpacks: [{ key: "a/b", version: 1, layers: { l: { data: {} } } }] }),
    ).toEqual([
      `${LABEL}: sbom must be a table, found a string "sha256:7"`,
      `${LABEL}: buildpacks[0].version must be a string, found an integer 1 (quote it: "1")`,
      `${LABEL}: buildpacks[0].layers.l.sha is required`,
    ]);
  });

  it("warns about a layer's metadata under its TOML name", () => {
    expect(
      messages({
        buildpacks: [{ key: "a/b", version: "1", layers: { l: { sha: sha("2"), metadata: {} } } }],
      }),
    ).toEqual([
      `${LABEL}: warning: buildpacks[0].layers.l.metadata is the TOML spelling: the label calls it "data" (ignored)`,
    ]);
  });
});
