import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildpackLayersLabel, extensionLayersLabel } from "./label-buildpack-layers.js";

const LABEL = "io.buildpacks.buildpack.layers";
const sha = (c: string) => `sha256:${c.repeat(64)}`;
const messages = (value: unknown) =>
  parseSpec(buildpackLayersLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const LAYERS = {
  "example/node": {
    "1.0.0": {
      api: "0.10",
      layerDiffID: sha("a"),
      targets: [{ os: "linux", arch: "amd64" }],
      homepage: "https://example.com/node",
      name: "Node.js",
    },
  },
  "example/js": {
    "3.0.0": {
      api: "0.10",
      layerDiffID: sha("c"),
      order: [
        {
          group: [
            { id: "example/node", version: "1.0.0" },
            { id: "example/yarn", version: "1.2.0", optional: true },
          ],
        },
      ],
    },
  },
};

describe(LABEL, () => {
  it("accepts every module of a composite buildpackage", () => {
    const parsed = parseSpec(buildpackLayersLabel, JSON.stringify(LAYERS), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.["example/node"]?.["1.0.0"]?.layerDiffID).toBe(sha("a"));
    expect(parsed.value?.["example/js"]?.["3.0.0"]?.order?.[0]?.group[1]?.optional).toBe(true);
  });

  it("reads io.buildpacks.extension.layers with the same shape", () => {
    const ext = { "example/apt": { "0.1.0": { api: "0.10", layerDiffID: sha("e") } } };
    const parsed = parseSpec(extensionLayersLabel, JSON.stringify(ext), "io.buildpacks.extension.layers");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual(ext);
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(buildpackLayersLabel, JSON.stringify(LAYERS), LABEL).value;
    const again = parseSpec(buildpackLayersLabel, serializeSpec(buildpackLayersLabel, first), LABEL).value;
    expect(again).toEqual(LAYERS);
  });

  it("names invalid values by id and version", () => {
    expect(
      messages({
        "example/node": { "1.0.0": { api: "v10", layerDiffID: "sha256:abc" } },
        "example/js": {
          "3.0.0": { api: "0.10", layerDiffID: sha("c"), order: [{ group: [{ version: "1" }] }] },
        },
        "example/old": "1.0.0",
      }),
    ).toEqual([
      `${LABEL}: "example/node"."1.0.0".api "v10" is not an API version (<major>.<minor>, e.g. "0.10")`,
      `${LABEL}: "example/node"."1.0.0".layerDiffID "sha256:abc" is not a digest (sha256:<64 lowercase hex digits>)`,
      `${LABEL}: "example/js"."3.0.0".order[0].group[0].id is required`,
      `${LABEL}: "example/old" must be a table, found a string "1.0.0"`,
    ]);
  });
});
