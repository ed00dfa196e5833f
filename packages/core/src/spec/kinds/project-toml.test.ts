import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { isLegacyProject, projectToml } from "./project-toml.js";

const messages = (text: string) =>
  parseSpec(projectToml, text, "project.toml").problems.map((p) => formatProblem(p));

const CURRENT = `
[_]
schema-version = "0.2"
id = "com.example.app"
name = "Example App"
version = "1.0.0"
authors = ["Jane <jane@example.com>"]
documentation-url = "https://example.com/docs"
source-url = "https://example.com/src"

[[_.licenses]]
type = "MIT"

[_.metadata]
team = "web"
[[_.metadata.assets]]
url = "https://cdn.example.com/assets/foo.jar"

[io.buildpacks]
builder = "registry.example/builder:jammy"
include = ["src/", "package.json"]

[[io.buildpacks.group]]
id = "example/node"
version = "1.0.0"
[[io.buildpacks.group]]
uri = "docker://registry.example/bp/extra:1"
[[io.buildpacks.group]]
id = "example/post-build"
  [io.buildpacks.group.script]
  api = "0.10"
  shell = "/bin/bash"
  inline = "echo hello"
[[io.buildpacks.group]]
id = "example/from-registry"

[[io.buildpacks.pre.group]]
uri = "urn:cnb:registry:example/certs"
[[io.buildpacks.post.group]]
id = "example/sbom-checker"
version = "2.0.0"

[[io.buildpacks.build.env]]
name = "JAVA_OPTS"
value = "-Xmx1g"

[com.example.deploy]
schema-version = "1"
replicas = 3
`;

const LEGACY = `
[project]
id = "com.example.app"
name = "Example App"
version = "1.0.0"
[[project.licenses]]
uri = "https://example.com/license"

[build]
exclude = ["spec/", "*.log"]
builder = "registry.example/builder:jammy"
[[build.buildpacks]]
id = "example/node"
version = "1.0.0"
[[build.buildpacks]]
uri = "../local-bp"
[[build.env]]
name = "JAVA_OPTS"
value = "-Xmx1g"

[metadata]
anything = { goes = true }
`;

describe("project.toml", () => {
  it("accepts a schema 0.2 descriptor, with free-form metadata and other tables", () => {
    const parsed = parseSpec(projectToml, CURRENT, "project.toml");
    expect(parsed.problems).toEqual([]);
    const p = parsed.value;
    if (!p || isLegacyProject(p)) throw new Error("expected a schema 0.2 descriptor");
    expect(p._["schema-version"]).toBe("0.2");
    expect(p._.licenses).toEqual([{ type: "MIT" }]);
    expect(p.io?.buildpacks?.group?.[2]?.script).toEqual({
      api: "0.10",
      shell: "/bin/bash",
      inline: "echo hello",
    });
    expect(p.io?.buildpacks?.pre?.group?.[0]?.uri).toBe("urn:cnb:registry:example/certs");
    expect(p.io?.buildpacks?.build?.env).toEqual([{ name: "JAVA_OPTS", value: "-Xmx1g" }]);
    expect((p as Record<string, unknown>).com).toEqual({
      example: { deploy: { "schema-version": "1", replicas: 3 } },
    });
  });

  it("reads a file without [_] as legacy schema 0.1, with pack's warning", () => {
    const parsed = parseSpec(projectToml, LEGACY, "project.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "project.toml: warning: has no [_] schema-version: read as legacy schema 0.1",
    ]);
    const p = parsed.value;
    if (!p || !isLegacyProject(p)) throw new Error("expected a legacy descriptor");
    expect(p.build?.exclude).toEqual(["spec/", "*.log"]);
    expect(p.build?.buildpacks?.[1]).toEqual({ uri: "../local-bp" });
    expect(p.metadata).toEqual({ anything: { goes: true } });
  });

  it("round-trips through TOML", () => {
    for (const text of [CURRENT, LEGACY]) {
      const first = parseSpec(projectToml, text, "project.toml").value;
      const again = parseSpec(projectToml, serializeSpec(projectToml, first), "project.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("warns about unknown keys under _ and io.buildpacks, never under _.metadata", () => {
    const text = `
[_]
schema-version = "0.2"
homepage = "https://example.com"
[_.metadata]
whatever = 1
[io.buildpacks]
builders = "x"
[[io.buildpacks.group]]
id = "example/post-build"
  [io.buildpacks.group.script]
  api = "0.10"
  inline = "true"
  timeout = 5
[io.other]
free = true
`;
    const parsed = parseSpec(projectToml, text, "project.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "project.toml: warning: _.homepage is not a known field (ignored)",
      "project.toml: warning: io.buildpacks.group[0].script.timeout is not a known field (ignored)",
      "project.toml: warning: io.buildpacks.builders is not a known field (ignored)",
    ]);
  });

  it("names invalid values of the 0.2 shape", () => {
    expect(
      messages(
        `[_]\nschema-version = 0.2\nauthors = "Jane"\n[[_.licenses]]\nname = "MIT"\n[[io.buildpacks.group]]\nid = "example/x"\n[io.buildpacks.group.script]\ninline = "true"\n`,
      ),
    ).toEqual([
      `project.toml: _.schema-version 0.2 must be one of "0.2", "0.3"`,
      `project.toml: _.authors must be an array, found a string "Jane"`,
      "project.toml: _.licenses[0] must have a type, a uri, or both",
      "project.toml: io.buildpacks.group[0].script.api is required",
    ]);
  });

  it("names invalid values of the legacy shape", () => {
    expect(messages(`[project]\nname = 1\n[build]\ninclude = "src"\n[[build.env]]\nvalue = "x"\n`)).toEqual([
      `project.toml: project.name must be a string, found an integer 1 (quote it: "1")`,
      `project.toml: build.include must be an array, found a string "src"`,
      "project.toml: build.env[0].name is required",
    ]);
  });

  it("refuses include with exclude and group entries that are not exactly one thing", () => {
    const text = `
[_]
schema-version = "0.2"
[io.buildpacks]
include = ["src/"]
exclude = ["spec/"]
[[io.buildpacks.group]]
id = "example/node"
version = "1.0.0"
uri = "docker://registry.example/bp/node:1.0.0"
[[io.buildpacks.group]]
version = "1.0.0"
[[io.buildpacks.pre.group]]
  [io.buildpacks.pre.group.script]
  api = "0.10"
  inline = "true"
`;
    expect(messages(text)).toEqual([
      "project.toml: io.buildpacks has both include and exclude: give one",
      "project.toml: io.buildpacks.group[0] has version and uri: give only one of version, uri, script",
      "project.toml: io.buildpacks.group[1] has neither id nor uri: give one",
      "project.toml: io.buildpacks.pre.group[0] has a script but no id: give one",
    ]);
    expect(
      messages(`[build]\ninclude = ["a"]\nexclude = ["b"]\n[[build.buildpacks]]\nuri = "x"\nversion = "1"\n`),
    ).toEqual([
      "project.toml: warning: has no [_] schema-version: read as legacy schema 0.1",
      "project.toml: build has both include and exclude: give one",
      "project.toml: build.buildpacks[0] has version and uri: give only one of version, uri, script",
    ]);
  });

  it("warns about fields of another schema version and the misspelt env table", () => {
    const v02 = `[_]\nschema-version = "0.2"\n[[io.buildpacks.env.build]]\nname = "A"\nvalue = "1"\n[[io.buildpacks.group]]\nid = "a/b"\nexec-env = ["test"]\n`;
    expect(messages(v02)).toEqual([
      "project.toml: warning: io.buildpacks.env is deprecated: use [[io.buildpacks.build.env]]",
      'project.toml: warning: io.buildpacks.group[0].exec-env needs schema-version "0.3" (ignored)',
    ]);
    expect(messages(v02.replace('"0.2"', '"0.3"'))).toEqual([
      "project.toml: warning: io.buildpacks.env is deprecated: use [[io.buildpacks.build.env]]",
    ]);
    expect(messages(`[build]\nbuilder = "b"\ncache = true\n[io.buildpacks]\nbuilder = "c"\n`)).toEqual([
      "project.toml: warning: has no [_] schema-version: read as legacy schema 0.1",
      "project.toml: warning: build.cache is not a known field (ignored)",
      'project.toml: warning: io.buildpacks is ignored without [_] schema-version = "0.2"',
    ]);
  });
});
