import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { analyzedToml, targetArchVariant } from "./analyzed-toml.js";

const sha = (c: string) => `sha256:${c.repeat(64)}`;

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(analyzedToml, text, "analyzed.toml", ctx).problems.map(formatProblem);

/** The analyzer's output after a rebuild, extended by generate, the restorer's build image added. */
const REBUILD = `
[image]
  reference = "registry.example/app@${sha("1")}"

[build-image]
  reference = "registry.example/build@${sha("3")}"

[run-image]
  reference = "registry.example/run@${sha("2")}"
  image = "registry.example/run:jammy"
  extend = true
  [run-image.target]
    id = "com.example.jammy"
    os = "linux"
    arch = "arm64"
    arch-variant = "v8"
    [run-image.target.distro]
      name = "ubuntu"
      version = "22.04"

[metadata]
  [[metadata.app]]
    sha = "${sha("a")}"
  [[metadata.app]]
    sha = "${sha("b")}"
  [metadata.sbom]
    sha = "${sha("5")}"
  [metadata.config]
    sha = "${sha("c")}"
  [metadata.launcher]
    sha = "${sha("d")}"
  [metadata.process-types]
    sha = "${sha("e")}"
  [[metadata.buildpacks]]
    key = "example/node"
    version = "1.0.0"
    [metadata.buildpacks.layers.node]
      sha = "${sha("f")}"
      build = false
      launch = true
      cache = true
      [metadata.buildpacks.layers.node.metadata]
        version = "20.11.0"
    [metadata.buildpacks.store.metadata]
      last-lockfile-hash = "abc"
  [metadata.run-image]
    top-layer = "${sha("9")}"
    reference = "registry.example/run@${sha("2")}"
    image = "registry.example/run:jammy"
    mirrors = ["mirror.example/run:jammy"]
  [metadata.stack.run-image]
    image = "registry.example/run:jammy"
    mirrors = ["mirror.example/run:jammy"]
`;

/** A first build: no previous image, target as the spec spells it, build image extension requested. */
const FIRST = `
[image]
  reference = ""
[build-image]
  reference = "registry.example/build@${sha("3")}"
  extend = true
[run-image]
  reference = "9f2a91336577"
  image = "run:jammy"
  [run-image.target]
    os = "linux"
    arch = "arm"
    variant = "v7"
[metadata]
`;

describe("analyzed.toml", () => {
  it("reads every key the analyzer, generate and the restorer write", () => {
    const parsed = parseSpec(analyzedToml, REBUILD, "analyzed.toml");
    expect(parsed.problems).toEqual([]);
    const value = parsed.value;
    expect(value?.image?.reference).toBe(`registry.example/app@${sha("1")}`);
    expect(value?.["build-image"]?.reference).toBe(`registry.example/build@${sha("3")}`);
    expect(value?.["run-image"]).toMatchObject({ image: "registry.example/run:jammy", extend: true });
    expect(value?.["run-image"]?.target).toEqual({
      id: "com.example.jammy",
      os: "linux",
      arch: "arm64",
      "arch-variant": "v8",
      distro: { name: "ubuntu", version: "22.04" },
    });
    const md = value?.metadata;
    expect(md?.app).toEqual([{ sha: sha("a") }, { sha: sha("b") }]);
    expect(md?.["process-types"]).toEqual({ sha: sha("e") });
    expect(md?.buildpacks?.[0]?.layers?.node).toEqual({
      sha: sha("f"),
      build: false,
      launch: true,
      cache: true,
      metadata: { version: "20.11.0" },
    });
    expect(md?.buildpacks?.[0]?.store).toEqual({ metadata: { "last-lockfile-hash": "abc" } });
    expect(md?.["run-image"]).toEqual({
      "top-layer": sha("9"),
      reference: `registry.example/run@${sha("2")}`,
      image: "registry.example/run:jammy",
      mirrors: ["mirror.example/run:jammy"],
    });
    expect(md?.stack?.["run-image"]?.mirrors).toEqual(["mirror.example/run:jammy"]);
  });

  it("reads a first build with an empty previous image and the spec's `variant` spelling", () => {
    const parsed = parseSpec(analyzedToml, FIRST, "analyzed.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.image?.reference).toBe("");
    expect(parsed.value?.["build-image"]?.extend).toBe(true);
    expect(parsed.value?.metadata).toEqual({});
  });

  it("gives the architecture variant under either spelling", () => {
    const go = parseSpec(analyzedToml, REBUILD, "analyzed.toml").value?.["run-image"]?.target;
    const spec = parseSpec(analyzedToml, FIRST, "analyzed.toml").value?.["run-image"]?.target;
    expect(go && targetArchVariant(go)).toBe("v8");
    expect(spec && targetArchVariant(spec)).toBe("v7");
    expect(targetArchVariant({ os: "linux", variant: "" })).toBeUndefined();
  });

  it("round-trips through TOML", () => {
    for (const text of [REBUILD, FIRST]) {
      const first = parseSpec(analyzedToml, text, "analyzed.toml").value;
      const again = parseSpec(analyzedToml, serializeSpec(analyzedToml, first), "analyzed.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("tolerates keys it does not know", () => {
    const parsed = parseSpec(analyzedToml, `${FIRST}\n[future]\nkey = 1\n`, "analyzed.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.value).toMatchObject({ future: { key: 1 } });
  });

  it("names each wrong value", () => {
    const text = `
[image]
[run-image]
  reference = "r"
  extend = "yes"
  [run-image.target]
    os = 1
[metadata]
  app = "sha256:1"
  [metadata.config]
    sha = "sha256:XYZ"
  [[metadata.buildpacks]]
    version = "1.0.0"
    [metadata.buildpacks.layers.node]
      launch = true
  [metadata.run-image]
    top-layer = "abc"
`;
    expect(messages(text)).toEqual([
      "analyzed.toml: image.reference is required",
      `analyzed.toml: run-image.extend must be a boolean (true or false), found a string "yes"`,
      `analyzed.toml: run-image.target.os must be a string, found an integer 1 (quote it: "1")`,
      `analyzed.toml: metadata.app "sha256:1" does not match any allowed form`,
      `analyzed.toml: metadata.config.sha "sha256:XYZ" is not a digest (sha256:<64 lowercase hex digits>) or empty`,
      "analyzed.toml: metadata.buildpacks[0].key is required",
      "analyzed.toml: metadata.buildpacks[0].layers.node.sha is required",
      `analyzed.toml: metadata.run-image.top-layer "abc" is not a digest (sha256:<64 lowercase hex digits>) or empty`,
    ]);
  });

  it("refuses a target whose two variant spellings disagree", () => {
    const text = `[run-image]\nreference = "r"\n[run-image.target]\nos = "linux"\narch = "arm"\nvariant = "v7"\narch-variant = "v6"\n`;
    expect(messages(text)).toEqual([
      `analyzed.toml: run-image.target.arch-variant "v6" differs from run-image.target.variant "v7"`,
    ]);
  });

  it("warns about the label's JSON spellings in [metadata]", () => {
    const text = `
[metadata]
  [[metadata.buildpacks]]
    key = "example/node"
    version = "1.0.0"
    [metadata.buildpacks.layers.node]
      sha = "${sha("f")}"
      data = { version = "20" }
  [metadata.runImage]
    topLayer = "${sha("9")}"
  [metadata.stack.runImage]
    image = "run:jammy"
`;
    const parsed = parseSpec(analyzedToml, text, "analyzed.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      `analyzed.toml: warning: metadata.runImage is the label's JSON spelling: analyzed.toml calls it "run-image" (ignored)`,
      `analyzed.toml: warning: metadata.stack.runImage is the label's JSON spelling: analyzed.toml calls it "run-image" (ignored)`,
      `analyzed.toml: warning: metadata.buildpacks[0].layers.node.data is the label's JSON spelling: analyzed.toml calls it "metadata" (ignored)`,
    ]);
  });

  it("warns about keys newer than the Platform API", () => {
    expect(messages(REBUILD, { platformApi: "0.9" })).toEqual([
      "analyzed.toml: warning: build-image needs Platform API 0.10 or newer",
      "analyzed.toml: warning: run-image.image needs Platform API 0.12 or newer",
      "analyzed.toml: warning: run-image.extend needs Platform API 0.12 or newer",
      "analyzed.toml: warning: run-image.target needs Platform API 0.12 or newer",
    ]);
    expect(messages(REBUILD, { platformApi: "0.12" })).toEqual([]);
  });
});
