import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import {
  builderLifecycleApis,
  builderMetadataLabel,
  builderMetadataRunImages,
} from "./label-builder-metadata.js";

const LABEL = "io.buildpacks.builder.metadata";
const messages = (value: unknown) =>
  parseSpec(builderMetadataLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));
const parse = (value: unknown) => {
  const parsed = parseSpec(builderMetadataLabel, JSON.stringify(value), LABEL);
  if (!parsed.ok) throw new Error(parsed.problems.map(formatProblem).join("\n"));
  return parsed.value;
};

const BUILDER = {
  description: "Ubuntu 22.04 with Node.js buildpacks",
  buildpacks: [
    { id: "example/node", version: "1.0.0", homepage: "https://example.com/node" },
    { id: "example/procfile", version: "2.1.0" },
  ],
  extensions: [{ id: "example/apt", version: "0.1.0" }],
  stack: { runImage: { image: "registry.example/run:jammy", mirrors: ["mirror.example/run:jammy"] } },
  images: [{ image: "registry.example/run:jammy", mirrors: ["mirror.example/run:jammy"] }],
  lifecycle: {
    version: "0.21.0",
    api: { buildpack: "0.7", platform: "0.7" },
    apis: {
      buildpack: { deprecated: [], supported: ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"] },
      platform: {
        deprecated: [],
        supported: ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"],
      },
    },
  },
  createdBy: { name: "Pack CLI", version: "0.38.0" },
};

describe(LABEL, () => {
  it("accepts the label pack writes", () => {
    const md = parse(BUILDER);
    expect(md.buildpacks?.map((b) => b.id)).toEqual(["example/node", "example/procfile"]);
    expect(builderMetadataRunImages(md)).toEqual([
      { image: "registry.example/run:jammy", mirrors: ["mirror.example/run:jammy"] },
    ]);
    expect(builderLifecycleApis(md, "platform")?.supported.at(-1)).toBe("0.15");
    expect(md.createdBy?.name).toBe("Pack CLI");
  });

  it("falls back to stack.runImage and lifecycle.api in older builders, and accepts Go's nulls", () => {
    const md = parse({
      description: "",
      buildpacks: null,
      extensions: null,
      stack: { runImage: { image: "registry.example/run:bionic", mirrors: null } },
      lifecycle: { version: "0.9.3", api: { buildpack: "0.2", platform: "0.3" } },
    });
    expect(builderMetadataRunImages(md)).toEqual([{ image: "registry.example/run:bionic", mirrors: [] }]);
    expect(builderLifecycleApis(md, "buildpack")).toEqual({ deprecated: [], supported: ["0.2"] });
  });

  it("accepts the legacy form on lifecycle images", () => {
    const md = parse({ lifecycle: { version: "0.21.0", api: { buildpack: "0.7", platform: "0.7" } } });
    expect(builderMetadataRunImages(md)).toEqual([]);
    expect(builderLifecycleApis(md, "platform")).toEqual({ deprecated: [], supported: ["0.7"] });
  });

  it("round-trips through JSON", () => {
    const first = parse(BUILDER);
    const again = parseSpec(builderMetadataLabel, serializeSpec(builderMetadataLabel, first), LABEL).value;
    expect(again).toEqual(BUILDER);
  });

  it("names invalid values", () => {
    expect(
      messages({
        buildpacks: [{ version: "1.0.0" }],
        images: [{ mirrors: ["m"] }],
        lifecycle: { api: { platform: 0.7 }, apis: { platform: { supported: ["0.x"] } } },
      }),
    ).toEqual([
      `${LABEL}: buildpacks[0].id is required`,
      `${LABEL}: images[0].image is required`,
      `${LABEL}: lifecycle.api.platform must be a string, found a float 0.7 (quote it: "0.7")`,
      `${LABEL}: lifecycle.apis.platform.supported[0] "0.x" is not an API version (<major>.<minor>, e.g. "0.10")`,
    ]);
  });
});
