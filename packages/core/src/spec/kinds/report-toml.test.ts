import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { reportManifestSize, reportToml } from "./report-toml.js";

const DIGEST = `sha256:${"4b2c".repeat(16)}`;

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(reportToml, text, "report.toml", ctx).problems.map(formatProblem);

const REGISTRY = `
[image]
  tags = ["registry.example/app:1.4", "registry.example/app:latest"]
  digest = "${DIGEST}"
  manifest-size = 2417
`;

const DAEMON = `
[image]
  tags = ["app:latest"]
  image-id = "9f2a91336577"
`;

describe("report.toml", () => {
  it("reads a registry export", () => {
    const parsed = parseSpec(reportToml, REGISTRY, "report.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.image).toEqual({
      tags: ["registry.example/app:1.4", "registry.example/app:latest"],
      digest: DIGEST,
      "manifest-size": 2417,
    });
    expect(parsed.value && reportManifestSize(parsed.value)).toBe(2417);
  });

  it("reads a daemon export", () => {
    const parsed = parseSpec(reportToml, DAEMON, "report.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.image["image-id"]).toBe("9f2a91336577");
    expect(parsed.value && reportManifestSize(parsed.value)).toBeUndefined();
  });

  it("reads the manifest size as the spec's example writes it, a string", () => {
    const parsed = parseSpec(reportToml, `[image]\ntags = []\nmanifest-size = "2417"\n`, "report.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value && reportManifestSize(parsed.value)).toBe(2417);
  });

  it("round-trips through TOML", () => {
    for (const text of [REGISTRY, DAEMON]) {
      const first = parseSpec(reportToml, text, "report.toml").value;
      const again = parseSpec(reportToml, serializeSpec(reportToml, first), "report.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("names each wrong value", () => {
    expect(messages("")).toEqual(["report.toml: image is required"]);
    const text = `[image]\ntags = "app:latest"\ndigest = "sha256:4b2c"\nmanifest-size = "2 KB"\n`;
    expect(messages(text)).toEqual([
      `report.toml: image.tags must be an array, found a string "app:latest"`,
      `report.toml: image.digest "sha256:4b2c" is not a digest (sha256:<64 lowercase hex digits>)`,
      `report.toml: image.manifest-size must be a size in bytes (an integer), found "2 KB"`,
    ]);
    expect(messages(`[image]\nmanifest-size = -1\n`)).toEqual([
      "report.toml: image.manifest-size -1 must be at least 0",
    ]);
  });

  it("warns about [build] bom from Platform API 0.9 on", () => {
    const text = `${DAEMON}\n[[build.bom]]\nname = "node"\n`;
    expect(messages(text, { platformApi: "0.8" })).toEqual([]);
    expect(messages(text, { platformApi: "0.9" })).toEqual([
      "report.toml: warning: build.bom is only written before Platform API 0.9 (SBOM files replace it)",
    ]);
  });
});
