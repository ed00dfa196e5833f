import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { builderBuildImage, builderRunImages, builderToml } from "./builder-toml.js";

const messages = (text: string) =>
  parseSpec(builderToml, text, "builder.toml").problems.map((p) => formatProblem(p));

const JAMMY = `
description = "Ubuntu 22.04 with Node.js buildpacks"

[[buildpacks]]
  uri = "docker://registry.example/bp/node:1.0.0"
[[buildpacks]]
  id = "example/procfile"
  version = "2.1.0"
  uri = "./procfile"

[[extensions]]
  uri = "urn:cnb:registry:example/apt@0.1.0"

[[order]]
  [[order.group]]
    id = "example/node"
    version = "1.0.0"
  [[order.group]]
    id = "example/procfile"
    optional = true

[[order-extensions]]
  [[order-extensions.group]]
    id = "example/apt"

[build]
  image = "registry.example/build:jammy"
  [[build.env]]
    name = "PATH"
    value = "/opt/tools/bin"
    suffix = "prepend"
    delim = ":"
  [[build.env]]
    name = "BP_LOG_LEVEL"
    value = "DEBUG"
    exec-env = ["test"]

[run]
  [[run.images]]
    image = "registry.example/run:jammy"
    mirrors = ["mirror.example/run:jammy"]
  [[run.images]]
    image = "registry.example/run-tiny:jammy"

[lifecycle]
  version = "0.21.0"

[[targets]]
  os = "linux"
  arch = "arm64"
  variant = "v8"
  [[targets.distros]]
    name = "ubuntu"
    version = "22.04"

[[system.pre.buildpacks]]
  id = "example/ca-certs"
  version = "1.0.0"
[[system.post.buildpacks]]
  id = "example/sbom-scan"
  version = "0.2.0"
  optional = true
`;

const LEGACY = `
[[buildpacks]]
  image = "registry.example/bp/node:1.0.0"

[[order]]
  [[order.group]]
    id = "example/node"

[stack]
  id = "io.buildpacks.stacks.jammy"
  build-image = "registry.example/build:jammy"
  run-image = "registry.example/run:jammy"
  run-image-mirrors = ["mirror.example/run:jammy"]

[lifecycle]
  uri = "https://example.com/lifecycle-v0.21.0+linux.x86-64.tgz"
`;

describe("builder.toml", () => {
  it("accepts a builder with modules, orders, env, run images, targets and system buildpacks", () => {
    const parsed = parseSpec(builderToml, JAMMY, "builder.toml");
    expect(parsed.problems).toEqual([]);
    const config = parsed.value;
    expect(config?.buildpacks?.[1]).toEqual({ id: "example/procfile", version: "2.1.0", uri: "./procfile" });
    expect(config?.order?.[0]?.group[1]).toEqual({ id: "example/procfile", optional: true });
    expect(config?.build?.env?.[0]).toEqual({
      name: "PATH",
      value: "/opt/tools/bin",
      suffix: "prepend",
      delim: ":",
    });
    expect(config?.build?.env?.[1]?.["exec-env"]).toEqual(["test"]);
    expect(config?.system?.post?.buildpacks?.[0]?.optional).toBe(true);
    expect(config?.targets?.[0]?.distros).toEqual([{ name: "ubuntu", version: "22.04" }]);
    expect(config && builderRunImages(config).map((r) => r.image)).toEqual([
      "registry.example/run:jammy",
      "registry.example/run-tiny:jammy",
    ]);
  });

  it("takes the images from the deprecated [stack], with warnings", () => {
    const parsed = parseSpec(builderToml, LEGACY, "builder.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      'builder.toml: warning: buildpacks[0].image is deprecated: use uri = "docker://registry.example/bp/node:1.0.0"',
      "builder.toml: warning: stack is deprecated: use [build] image and [[run.images]]",
    ]);
    const config = parsed.value;
    expect(config && builderBuildImage(config)).toBe("registry.example/build:jammy");
    expect(config && builderRunImages(config)).toEqual([
      { image: "registry.example/run:jammy", mirrors: ["mirror.example/run:jammy"] },
    ]);
  });

  it("round-trips through TOML", () => {
    for (const text of [JAMMY, LEGACY]) {
      const first = parseSpec(builderToml, text, "builder.toml").value;
      const again = parseSpec(builderToml, serializeSpec(builderToml, first), "builder.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("requires a build image and run images", () => {
    expect(messages(`[[order]]\n[[order.group]]\nid = "a/b"\n`)).toEqual([
      "builder.toml: build.image is required",
      "builder.toml: run.images is required",
    ]);
  });

  it("refuses unknown keys as pack does", () => {
    expect(
      messages(
        `[build]\nimage = "b"\nuser = "cnb"\n[[run.images]]\nimage = "r"\n[[order]]\n[[order.group]]\nid = "a/b"\nversion = "1.0.0"\nenabled = true\n`,
      ),
    ).toEqual([
      "builder.toml: order[0].group[0].enabled is not a known field",
      "builder.toml: build.user is not a known field",
    ]);
  });

  it("names every invalid value", () => {
    expect(
      messages(
        `[[buildpacks]]\nid = "Node JS"\nuri = "x"\n[build]\nimage = "b"\n[[build.env]]\nname = "A"\nvalue = "1"\nsuffix = "after"\n[[run.images]]\nmirrors = ["m"]\n[lifecycle]\nversion = "latest"\n[[order]]\ngroup = []\n`,
      ),
    ).toEqual([
      `builder.toml: buildpacks[0].id "Node JS" is not a valid id (letters, digits, '.', '/', '-')`,
      `builder.toml: order[0].group must have at least 1 entry`,
      `builder.toml: build.env[0].suffix "after" must be one of "default", "override", "append", "prepend"`,
      "builder.toml: run.images[0].image is required",
      `builder.toml: lifecycle.version "latest" is not a valid version (semver, e.g. "0.21.0")`,
    ]);
  });

  it("applies the cross-field rules", () => {
    const text = `
[[buildpacks]]
  id = "example/node"
[[extensions]]
  uri = "./apt"
  image = "registry.example/ext/apt"
[build]
  image = "registry.example/build:jammy"
  [[build.env]]
    name = "PATH"
    value = "/opt/bin"
    suffix = "append"
[[run.images]]
  image = "registry.example/run:jammy"
[stack]
  id = "io.buildpacks.stacks.jammy"
  build-image = "registry.example/build:noble"
  run-image = "registry.example/run:noble"
[lifecycle]
  version = "0.21.0"
  uri = "docker://buildpacksio/lifecycle:0.21.0"
`;
    expect(messages(text)).toEqual([
      "builder.toml: buildpacks[0] has neither uri nor image: give one",
      "builder.toml: extensions[0] has both uri and image: give one",
      `builder.toml: stack.build-image "registry.example/build:noble" does not match build.image "registry.example/build:jammy"`,
      `builder.toml: stack.run-image "registry.example/run:noble" does not match run.images[0].image "registry.example/run:jammy"`,
      "builder.toml: warning: stack is deprecated: use [build] image and [[run.images]]",
      `builder.toml: build.env[0].delim is required with suffix "append"`,
      "builder.toml: lifecycle has both version and uri: give one",
      "builder.toml: warning: order is empty: the builder will detect nothing",
    ]);
  });

  it("needs stack.id to take the run image from [stack]", () => {
    expect(
      messages(`[stack]\nbuild-image = "b"\nrun-image = "r"\n[[order]]\n[[order.group]]\nid = "a/b"\n`),
    ).toEqual([
      "builder.toml: stack.id is required with stack.run-image (or give [[run.images]])",
      "builder.toml: warning: stack is deprecated: use [build] image and [[run.images]]",
    ]);
  });
});
