import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildpackToml } from "./buildpack-toml.js";

const messages = (text: string) =>
  parseSpec(buildpackToml, text, "buildpack.toml").problems.map((p) => formatProblem(p));

const NODE = `
api = "0.10"

[buildpack]
  id = "example/node"
  version = "1.0.0"
  name = "Node.js"
  homepage = "https://example.com/node"
  sbom-formats = ["application/vnd.cyclonedx+json"]

  [[buildpack.licenses]]
    type = "Apache-2.0"

[[targets]]
  os = "linux"
  arch = "amd64"
  [[targets.distros]]
    name = "ubuntu"
    version = "22.04"

[metadata]
  default-version = "20"
  [[metadata.dependencies]]
    id = "node"
    uri = "https://example.com/node-20.tgz"
`;

const COMPOSITE = `
api = "0.10"
[buildpack]
  id = "example/js"
  version = "3.0.0"
[[order]]
  [[order.group]]
    id = "example/node"
    version = "1.0.0"
  [[order.group]]
    id = "example/yarn"
    version = "1.2.0"
    optional = true
`;

describe("buildpack.toml", () => {
  it("accepts a component buildpack with targets, licenses and free-form metadata", () => {
    const parsed = parseSpec(buildpackToml, NODE, "buildpack.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.buildpack.id).toBe("example/node");
    expect(parsed.value?.targets?.[0]?.distros?.[0]).toEqual({ name: "ubuntu", version: "22.04" });
  });

  it("accepts a composite buildpack", () => {
    const parsed = parseSpec(buildpackToml, COMPOSITE, "buildpack.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.value?.order?.[0]?.group[1]).toEqual({
      id: "example/yarn",
      version: "1.2.0",
      optional: true,
    });
  });

  it("round-trips through TOML", () => {
    for (const text of [NODE, COMPOSITE]) {
      const first = parseSpec(buildpackToml, text, "buildpack.toml").value;
      const again = parseSpec(buildpackToml, serializeSpec(buildpackToml, first), "buildpack.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("names the field and the value of an invalid id", () => {
    expect(messages(`api = "0.10"\n[buildpack]\nid = "My BP"\nversion = "1.0.0"\n`)).toEqual([
      `buildpack.toml: buildpack.id "My BP" is not a valid id (letters, digits, '.', '/', '-')`,
    ]);
  });

  it("refuses ids the lifecycle reserves for its own directories", () => {
    expect(messages(`api = "0.10"\n[buildpack]\nid = "config"\nversion = "1.0.0"\n`)).toEqual([
      `buildpack.toml: buildpack.id "config" is reserved (app, config, generated and sbom name lifecycle directories)`,
    ]);
  });

  it("reports every problem of a file together", () => {
    expect(messages(`api = 0.10\n[buildpack]\nversion = "01.2"\nclear-env = "yes"\n`)).toEqual([
      `buildpack.toml: api must be a string, found a float 0.1 (quote it: "0.1")`,
      "buildpack.toml: buildpack.id is required",
      `buildpack.toml: buildpack.version "01.2" is not a valid version (<X>.<Y>.<Z>, e.g. "1.2.0", no leading zeros)`,
      `buildpack.toml: buildpack.clear-env must be a boolean (true or false), found a string "yes"`,
    ]);
  });

  it("names what was found where a table was expected", () => {
    expect(messages(`api = "0.10"\nbuildpack = ["a/b"]\n`)).toEqual([
      "buildpack.toml: buildpack must be a table, found an array",
    ]);
  });

  it("names the line and column of a TOML syntax error", () => {
    expect(messages(`api = "0.10"\n[buildpack]\nid = example/x\n`)).toEqual([
      "buildpack.toml:3:6: is not valid TOML: invalid value",
    ]);
  });

  it("refuses [[stacks]] in a composite buildpack and empty groups", () => {
    expect(messages(`${COMPOSITE}\n[[stacks]]\nid = "*"\n[[order]]\ngroup = []\n`)).toEqual([
      "buildpack.toml: stacks is not allowed in a composite buildpack (one with [[order]])",
      "buildpack.toml: order[1].group must have at least 1 entry",
      "buildpack.toml: warning: stacks is deprecated since Buildpack API 0.10: declare [[targets]]",
    ]);
  });

  it("warns about fields newer than the declared Buildpack API", () => {
    const parsed = parseSpec(
      buildpackToml,
      `api = "0.9"\n[buildpack]\nid = "a/b"\nversion = "1.0.0"\nexec-env = ["test"]\n[[targets]]\nos = "linux"\n`,
      "buildpack.toml",
    );
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "buildpack.toml: warning: buildpack.exec-env needs Buildpack API 0.12 or newer",
      "buildpack.toml: warning: targets needs Buildpack API 0.10 or newer (use [[stacks]] before)",
    ]);
  });

  it("reads exec-env both as the spec spells it and as Go writes it", () => {
    const spec = `api = "0.12"\n[buildpack]\nid = "a/b"\nversion = "1.0.0"\n[[buildpack.exec-env]]\nname = "test"\n`;
    const go = `api = "0.12"\n[buildpack]\nid = "a/b"\nversion = "1.0.0"\nexec-env = ["test"]\n`;
    expect(parseSpec(buildpackToml, spec, "buildpack.toml").problems).toEqual([]);
    expect(parseSpec(buildpackToml, go, "buildpack.toml").problems).toEqual([]);
  });

  it("warns about a Buildpack API the lifecycle does not run", () => {
    expect(messages(`api = "0.4"\n[buildpack]\nid = "a/b"\nversion = "1.0.0"\n`)).toEqual([
      `buildpack.toml: warning: api "0.4" is outside the Buildpack APIs cnbp runs (0.7 to 0.12)`,
    ]);
  });
});
