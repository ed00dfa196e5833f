import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { extensionToml } from "./extension-toml.js";

const messages = (text: string) =>
  parseSpec(extensionToml, text, "extension.toml").problems.map((p) => formatProblem(p));

const APT = `
api = "0.10"

[extension]
id = "example/apt"
name = "APT packages"
version = "0.1.0"
homepage = "https://example.com/apt"
description = "Installs OS packages listed in Aptfile"
keywords = ["apt"]

[[extension.licenses]]
type = "Apache-2.0"

[[targets]]
os = "linux"
arch = "amd64"

[metadata]
packages-file = "Aptfile"
`;

const HEADER = `api = "0.12"\n[extension]\nid = "example/apt"\nversion = "0.1.0"\n`;

describe("extension.toml", () => {
  it("accepts a descriptor with licenses, targets and free-form metadata", () => {
    const parsed = parseSpec(extensionToml, APT, "extension.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.extension.id).toBe("example/apt");
    expect(parsed.value?.extension.licenses).toEqual([{ type: "Apache-2.0" }]);
    expect(parsed.value?.targets).toEqual([{ os: "linux", arch: "amd64" }]);
    expect(parsed.value?.metadata).toEqual({ "packages-file": "Aptfile" });
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(extensionToml, APT, "extension.toml").value;
    const again = parseSpec(extensionToml, serializeSpec(extensionToml, first), "extension.toml").value;
    expect(again).toEqual(first);
  });

  it("applies buildpack.toml's rules to id, version and api", () => {
    expect(messages(`api = "0.10"\n[extension]\nid = "sbom"\nversion = "1.0"\n`)).toEqual([
      `extension.toml: extension.id "sbom" is reserved (app, config, generated and sbom name lifecycle directories)`,
      `extension.toml: extension.version "1.0" is not a valid version (<X>.<Y>.<Z>, e.g. "1.2.0", no leading zeros)`,
    ]);
    expect(messages(`[extension]\nid = "a/b"\nversion = "1.0.0"\n`)).toEqual([
      "extension.toml: api is required",
    ]);
    expect(
      messages(`api = "0.10"\n[extension]\nid = "a/b"\nversion = "1.0.0"\n[[extension.licenses]]\n`),
    ).toEqual(["extension.toml: extension.licenses[0] must have a type, a uri, or both"]);
  });

  it("refuses [[order]]: extensions are never composite", () => {
    expect(messages(`${HEADER}[[order]]\n[[order.group]]\nid = "x/y"\n`)).toEqual([
      "extension.toml: order is not allowed: extensions cannot be composite",
    ]);
  });

  it("warns about buildpack-only keys and fields newer than the declared API", () => {
    const parsed = parseSpec(
      extensionToml,
      `api = "0.11"\n[extension]\nid = "a/b"\nversion = "1.0.0"\nexec-env = ["test"]\nsbom-formats = ["application/spdx+json"]\n[[stacks]]\nid = "*"\n`,
      "extension.toml",
    );
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "extension.toml: warning: stacks is ignored: extensions declare [[targets]], never stacks",
      "extension.toml: warning: extension.sbom-formats is ignored: extensions may not write SBOM files",
      "extension.toml: warning: extension.exec-env needs Buildpack API 0.12 or newer",
    ]);
    expect(messages(`${HEADER}[[extension.exec-env]]\nname = "test"\n`)).toEqual([]);
  });

  it("warns about a Buildpack API the lifecycle does not run", () => {
    expect(messages(HEADER.replace('"0.12"', '"0.13"'))).toEqual([
      `extension.toml: warning: api "0.13" is outside the Buildpack APIs cnbp runs (0.7 to 0.12)`,
    ]);
  });
});
