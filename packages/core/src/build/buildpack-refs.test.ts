import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModuleLayers } from "../spec/index.js";
import { type BuilderModules, type BuildpackSpec, classifyModule } from "./buildpack-refs.js";

const layer = { api: "0.10", layerDiffID: "sha256:0" };
const LAYERS: ModuleLayers = {
  "ex/node": { "1.0.0": layer, "2.0.0": layer },
  "ex/go": { "1.5.0": layer },
};
const BUILDER: BuilderModules = { buildpack: LAYERS, extension: { "ex/apt": { "1.0.0": true } } };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-bp-refs-"));
  await mkdir(join(dir, "ex", "local"), { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const flag = (ref: string): BuildpackSpec => ({ where: "--buildpack", ref, baseDir: dir });
const classify = (ref: string) => classifyModule(flag(ref), "buildpack", BUILDER);
const classifyExtension = (ref: string) =>
  classifyModule({ where: "--extension", ref, baseDir: dir }, "extension", BUILDER);
const failure = (ref: string, kind: "buildpack" | "extension" = "buildpack") =>
  (kind === "buildpack" ? classify(ref) : classifyExtension(ref)).then(
    () => undefined,
    (err: Error & { code: string; hints: string[] }) => ({
      code: err.code,
      message: err.message,
      hints: err.hints,
    }),
  );

describe("what a --buildpack value points at", () => {
  it("reads urn:cnb:builder:, <id>@<version> and a bare <id> as the builder's buildpack", async () => {
    expect(await classify("urn:cnb:builder:ex/node@2.0.0")).toEqual({
      kind: "builder",
      id: "ex/node",
      version: "2.0.0",
    });
    expect(await classify("ex/node@1.0.0")).toEqual({ kind: "builder", id: "ex/node", version: "1.0.0" });
    expect(await classify("ex/go")).toEqual({ kind: "builder", id: "ex/go", version: "1.5.0" });
    expect(await classify("urn:cnb:builder:ex/go")).toEqual({
      kind: "builder",
      id: "ex/go",
      version: "1.5.0",
    });
  });

  it("takes an existing path before a builder id, and paths and URLs as sources", async () => {
    expect(await classify("ex/local")).toEqual({ kind: "source", uri: "ex/local", baseDir: dir });
    for (const ref of [
      "./missing",
      "/abs/missing",
      "bp.tgz",
      "docker://registry.example/bp:1",
      "https://h/bp.tgz",
    ])
      expect(await classify(ref)).toEqual({ kind: "source", uri: ref, baseDir: dir });
  });

  it("reads an image reference that names its registry as a buildpackage image", async () => {
    expect(await classify("127.0.0.1:5000/ns/bp:1")).toEqual({
      kind: "source",
      uri: "docker://127.0.0.1:5000/ns/bp:1",
      baseDir: dir,
    });
    expect(await classify(`localhost/bp@sha256:${"a".repeat(64)}`)).toMatchObject({ kind: "source" });
  });

  it("takes project.toml's id, id and version, and inline scripts", async () => {
    const where = "project.toml: io.buildpacks.group[0]";
    expect(await classifyModule({ where, id: "ex/go" }, "buildpack", BUILDER)).toEqual({
      kind: "builder",
      id: "ex/go",
      version: "1.5.0",
    });
    expect(
      await classifyModule({ where, id: "ex/node", version: "1.0.0" }, "buildpack", BUILDER),
    ).toMatchObject({
      version: "1.0.0",
    });
    const script = { api: "0.10", inline: "echo hi" };
    expect(await classifyModule({ where, id: "ex/inline", script }, "buildpack", BUILDER)).toEqual({
      kind: "inline",
      id: "ex/inline",
      script,
    });
  });

  it("says what the builder has when an id or version is not there, or a version is needed", async () => {
    expect(await failure("ex/node@3.0.0")).toEqual({
      code: "CNBP_BUILDPACK_NOT_FOUND",
      message: '--buildpack "ex/node@3.0.0": the builder has no buildpack ex/node@3.0.0',
      hints: ["the builder has ex/go@1.5.0, ex/node@1.0.0, ex/node@2.0.0"],
    });
    expect(await failure("ex/node")).toEqual({
      code: "CNBP_BUILDPACK_NOT_FOUND",
      message: '--buildpack "ex/node": the builder has ex/node@1.0.0, ex/node@2.0.0',
      hints: ["give the version: <id>@<version>"],
    });
    expect(await failure("ex/ruby")).toEqual({
      code: "CNBP_BUILDPACK_NOT_FOUND",
      message: '--buildpack "ex/ruby": no such file or directory, and the builder has no buildpack ex/ruby',
      hints: [
        "the builder has ex/go@1.5.0, ex/node@1.0.0, ex/node@2.0.0",
        "a buildpackage image is docker://<image> (or an image name with its registry)",
      ],
    });
    expect(await failure("urn:cnb:registry:ex/ruby@1.0.0")).toEqual({
      code: "CNBP_BUILDPACK_NOT_FOUND",
      message: '--buildpack "urn:cnb:registry:ex/ruby@1.0.0": cnbp cannot read the buildpack registry',
      hints: ["give the buildpackage as docker://<image>, or a directory or archive"],
    });
  });
});

describe("what an --extension value points at", () => {
  it("reads the builder's extensions, and paths and URLs as sources", async () => {
    expect(await classifyExtension("ex/apt@1.0.0")).toEqual({
      kind: "builder",
      id: "ex/apt",
      version: "1.0.0",
    });
    expect(await classifyExtension("urn:cnb:builder:ex/apt")).toEqual({
      kind: "builder",
      id: "ex/apt",
      version: "1.0.0",
    });
    expect(await classifyExtension("./ext")).toEqual({ kind: "source", uri: "./ext", baseDir: dir });
    expect(await classifyExtension("127.0.0.1:5000/ns/ext:1")).toEqual({
      kind: "source",
      uri: "docker://127.0.0.1:5000/ns/ext:1",
      baseDir: dir,
    });
  });

  it("says what the builder has when an extension is not there", async () => {
    expect(await failure("ex/apt@2.0.0", "extension")).toEqual({
      code: "CNBP_EXTENSION_NOT_FOUND",
      message: '--extension "ex/apt@2.0.0": the builder has no extension ex/apt@2.0.0',
      hints: ["the builder has ex/apt@1.0.0"],
    });
    expect(await failure("ex/yum", "extension")).toEqual({
      code: "CNBP_EXTENSION_NOT_FOUND",
      message: '--extension "ex/yum": no such file or directory, and the builder has no extension ex/yum',
      hints: [
        "the builder has ex/apt@1.0.0",
        "an extension package image is docker://<image> (or an image name with its registry)",
      ],
    });
  });

  it("refuses one of the builder's buildpacks as an extension, and the other way round", async () => {
    for (const ref of ["ex/go@1.5.0", "ex/go", "urn:cnb:builder:ex/node@2.0.0"])
      expect(await failure(ref, "extension")).toEqual({
        code: "CNBP_EXTENSION_INVALID",
        message: `--extension ${JSON.stringify(ref)} names one of the builder's buildpacks, not an extension`,
        hints: ["give buildpacks with --buildpack"],
      });
    expect(await failure("ex/apt@1.0.0")).toEqual({
      code: "CNBP_BUILDPACK_INVALID",
      message: `--buildpack "ex/apt@1.0.0" names one of the builder's extensions, not a buildpack`,
      hints: ["give extensions with --extension"],
    });
    expect(await failure("ex/apt")).toMatchObject({ code: "CNBP_BUILDPACK_INVALID" });
  });
});
