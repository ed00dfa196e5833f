import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { lifecycleMetadataLabel } from "./label-lifecycle-metadata.js";

const LABEL = "io.buildpacks.lifecycle.metadata";
const sha = (c: string) => `sha256:${c.repeat(64)}`;
const messages = (value: unknown) =>
  parseSpec(lifecycleMetadataLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const METADATA = {
  app: [{ sha: sha("a") }, { sha: sha("b") }],
  sbom: { sha: sha("5") },
  config: { sha: sha("c") },
  launcher: { sha: sha("d") },
  "process-types": { sha: sha("e") },
  buildpacks: [
    {
      key: "example/node",
      version: "1.0.0",
      layers: {
        node: { sha: sha("f"), data: { version: "20.11.0" }, build: false, launch: true, cache: true },
      },
      store: { metadata: { "last-lockfile-hash": "abc" } },
    },
    { key: "example/procfile", version: "2.1.0", layers: {} },
  ],
  runImage: {
    topLayer: sha("9"),
    reference: `registry.example/run@${sha("2")}`,
    image: "registry.example/run:jammy",
    mirrors: ["mirror.example/run:jammy"],
  },
  stack: { runImage: { image: "registry.example/run:jammy", mirrors: ["mirror.example/run:jammy"] } },
};

describe(LABEL, () => {
  it("accepts the label an exporter writes", () => {
    const parsed = parseSpec(lifecycleMetadataLabel, JSON.stringify(METADATA), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.buildpacks?.[0]?.layers?.node?.data).toEqual({ version: "20.11.0" });
    expect(parsed.value?.runImage?.topLayer).toBe(sha("9"));
    expect(parsed.value?.stack?.runImage?.image).toBe("registry.example/run:jammy");
  });

  it("accepts what Go writes for empty values and older labels", () => {
    const old = {
      app: { sha: sha("a") },
      config: { sha: sha("c") },
      launcher: { sha: sha("d") },
      "process-types": { sha: "" },
      buildpacks: [{ key: "example/node", version: "1.0.0", layers: null }],
      runImage: { topLayer: sha("9"), reference: "sha256:1234" },
      "exec-env": "production",
    };
    const parsed = parseSpec(lifecycleMetadataLabel, JSON.stringify(old), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.app).toEqual({ sha: sha("a") });
    expect((parsed.value as Record<string, unknown>)["exec-env"]).toBe("production");
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(lifecycleMetadataLabel, JSON.stringify(METADATA), LABEL).value;
    const again = parseSpec(
      lifecycleMetadataLabel,
      serializeSpec(lifecycleMetadataLabel, first),
      LABEL,
    ).value;
    expect(again).toEqual(first);
    expect(again).toEqual(METADATA);
  });

  it("names invalid digests and missing keys", () => {
    expect(
      messages({
        app: [{ sha: "abc" }],
        buildpacks: [{ version: "1.0.0", layers: { node: { sha: sha("F"), launch: "yes" } } }],
        runImage: { topLayer: 7 },
      }),
    ).toEqual([
      `${LABEL}: app[0].sha "abc" is not a digest (sha256:<64 lowercase hex digits>) or empty`,
      `${LABEL}: buildpacks[0].key is required`,
      `${LABEL}: buildpacks[0].layers.node.sha "${sha("F")}" is not a digest (sha256:<64 lowercase hex digits>)`,
      `${LABEL}: buildpacks[0].layers.node.launch must be a boolean (true or false), found a string "yes"`,
      `${LABEL}: runImage.topLayer must be a string, found an integer 7 (quote it: "7")`,
    ]);
  });

  it("warns about TOML spellings the label does not use", () => {
    const layers = { l: { sha: sha("1"), metadata: { v: 1 } } };
    expect(messages({ buildpacks: [{ key: "a/b", version: "1", layers }], "run-image": {} })).toEqual([
      `${LABEL}: warning: run-image is the TOML spelling: the label calls it "runImage" (ignored)`,
      `${LABEL}: warning: buildpacks[0].layers.l.metadata is the TOML spelling: the label calls it "data" (ignored)`,
    ]);
    expect(messages({ runImage: { "top-layer": sha("9") } })).toEqual([
      `${LABEL}: warning: runImage.top-layer is the TOML spelling: the label calls it "topLayer" (ignored)`,
    ]);
  });
});
