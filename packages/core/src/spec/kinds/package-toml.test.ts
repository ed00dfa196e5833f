import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { packageToml } from "./package-toml.js";

const messages = (text: string) =>
  parseSpec(packageToml, text, "package.toml").problems.map((p) => formatProblem(p));

const COMPOSITE = `
[buildpack]
  uri = "."

[[dependencies]]
  uri = "../node/node.cnb"
[[dependencies]]
  image = "registry.example/bp/yarn:1.2.0"
[[dependencies]]
  uri = "docker://registry.example/bp/npm:3.0.0"

[[targets]]
  os = "linux"
  arch = "amd64"
[[targets]]
  os = "linux"
  arch = "arm64"
  [[targets.distros]]
    name = "ubuntu"
    version = "22.04"
`;

const EXTENSION = `
[extension]
  uri = "https://example.com/apt-extension-0.1.0.tgz"

[platform]
  os = "linux"
`;

describe("package.toml", () => {
  it("accepts a composite buildpack's package config with dependencies and targets", () => {
    const parsed = parseSpec(packageToml, COMPOSITE, "package.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.buildpack?.uri).toBe(".");
    expect(parsed.value?.dependencies?.map((d) => d.uri ?? d.image)).toEqual([
      "../node/node.cnb",
      "registry.example/bp/yarn:1.2.0",
      "docker://registry.example/bp/npm:3.0.0",
    ]);
    expect(parsed.value?.targets?.[1]).toEqual({
      os: "linux",
      arch: "arm64",
      distros: [{ name: "ubuntu", version: "22.04" }],
    });
  });

  it("accepts an extension's package config", () => {
    const parsed = parseSpec(packageToml, EXTENSION, "package.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual({
      extension: { uri: "https://example.com/apt-extension-0.1.0.tgz" },
      platform: { os: "linux" },
    });
  });

  it("round-trips through TOML", () => {
    for (const text of [COMPOSITE, EXTENSION]) {
      const first = parseSpec(packageToml, text, "package.toml").value;
      const again = parseSpec(packageToml, serializeSpec(packageToml, first), "package.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("refuses unknown keys and invalid values", () => {
    expect(
      messages(
        `[buildpack]\npath = "."\n[platform]\nos = "darwin"\n[[targets]]\nos = "linux"\nplatform = "x"\n`,
      ),
    ).toEqual([
      "package.toml: buildpack.uri is required",
      "package.toml: buildpack.path is not a known field",
      `package.toml: platform.os "darwin" must be one of "linux", "windows"`,
      "package.toml: targets[0].platform is not a known field",
    ]);
  });

  it("needs exactly one of [buildpack] and [extension]", () => {
    expect(messages(`[platform]\nos = "linux"\n`)).toEqual([
      "package.toml: has neither [buildpack] nor [extension]: give one",
    ]);
    expect(messages(`[buildpack]\nuri = "."\n[extension]\nuri = "."\n`)).toEqual([
      "package.toml: has both [buildpack] and [extension]: give one",
    ]);
  });

  it("needs exactly one of uri and image per dependency, and none for an extension", () => {
    expect(
      messages(`[extension]\nuri = "."\n[[dependencies]]\nuri = "a"\nimage = "b"\n[[dependencies]]\n`),
    ).toEqual([
      "package.toml: dependencies is not allowed with [extension] (extensions cannot be composite)",
      "package.toml: dependencies[0] has both uri and image: give one",
      "package.toml: dependencies[1] has neither uri nor image: give one",
    ]);
  });
});
