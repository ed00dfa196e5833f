/**
 * builder.toml's `[system]` (pre and post system buildpacks, /cnb/system.toml for Platform 0.15) and
 * `[[build.env]]` (the operator's env files under /cnb/build-config/env/; `exec-env` only for every execution
 * environment, as the lifecycle reads those files whatever CNB_EXEC_ENV is): each in a layer of its own, read back
 * from the registry entry by entry, and the label pack writes for `[system]`; the deprecated `[stack]`, with
 * /cnb/stack.toml for a lifecycle that speaks a Platform API before 0.12.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseReference, RegistryClient } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cnbp,
  inRegistry,
  REGISTRY,
  REPO_ROOT,
  RUN_ID,
  readRegistryImage as readImage,
  STACKS,
  writeFiles,
  writtenLines,
} from "#test-utils";

const client = new RegistryClient();
const REPO = `${REGISTRY}/cnbp-test/${RUN_ID}`;
const BUILD_IMAGE = inRegistry(STACKS.busybox.build);
const RUN_IMAGE = inRegistry(STACKS.busybox.run);

let dir: string;
let env: Record<string, string>;

const SYSTEM = [
  '[[system.pre.buildpacks]]\nid = "ex/pre"\nversion = "1.0.0"\noptional = true',
  '[[system.post.buildpacks]]\nid = "ex/post"\nversion = "2.0.0"',
].join("\n");

const BUILD_ENV = [
  '[[build.env]]\nname = "JAVA_OPTS"\nvalue = "-Xmx1g"',
  '[[build.env]]\nname = "PATH"\nvalue = "/opt/tools/bin"\nsuffix = "prepend"\ndelim = ":"',
  '[[build.env]]\nname = "MODE"\nvalue = "production"\nsuffix = "override"',
  // for every execution environment: the same files as without exec-env
  '[[build.env]]\nname = "LANG"\nvalue = "C.UTF-8"\nexec-env = ["*"]',
  '[[build.env]]\nname = "TZ"\nvalue = "UTC"\nsuffix = "default"\nexec-env = []',
].join("\n");

async function builderToml(name: string, extra: string) {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      '[[buildpacks]]\nuri = "bp/hello"',
      '[[buildpacks]]\nuri = "bp/pre"',
      '[[buildpacks]]\nuri = "bp/post"',
      '[[order]]\n[[order.group]]\nid = "examples/hello"',
      `[build]\nimage = "${BUILD_IMAGE}"`,
      `[run]\n[[run.images]]\nimage = "${RUN_IMAGE}"`,
      extra,
      "",
    ].join("\n"),
  );
  return file;
}

/** A buildpack at `root` whose detect and build pass. */
const buildpack = (root: string, id: string, version: string) =>
  writeFiles(root, {
    "buildpack.toml": `api = "0.12"\n[buildpack]\nid = "${id}"\nversion = "${version}"\n`,
    "bin/detect": "#!/bin/sh\nexit 0\n",
    "bin/build": "#!/bin/sh\nexit 0\n",
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-builder-config-e2e-"));
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await buildpack(join(dir, "bp/pre"), "ex/pre", "1.0.0");
  await buildpack(join(dir, "bp/post"), "ex/post", "2.0.0");
  env = { CNBP_CACHE_DIR: join(dir, "cache") };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp builder create: [system] and [[build.env]]", () => {
  it("writes /cnb/system.toml and the build-config env files, each in its own layer", async () => {
    const config = await builderToml("builder.toml", `${SYSTEM}\n${BUILD_ENV}`);
    const name = `${REPO}/system-env:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(writtenLines(r.stdout).slice(0, -1)).toEqual([
      "written directories",
      "written lifecycle 0.1.0",
      "written buildpack ex/post@2.0.0",
      "written buildpack ex/pre@1.0.0",
      "written buildpack examples/hello@0.1.0",
      "written order",
      "written system",
      "written run",
      "written build-config env",
    ]);
    const b = await readImage(name);
    const [system, , buildEnv] = b.config.rootfs.diff_ids.slice(-3) as string[];
    expect(await b.entries(system as string)).toEqual({
      entries: ["/cnb/system.toml 644 0:0"],
      files: {
        "/cnb/system.toml": [
          '[[system.pre.buildpacks]]\nid = "ex/pre"\nversion = "1.0.0"\noptional = true\n',
          '[[system.post.buildpacks]]\nid = "ex/post"\nversion = "2.0.0"\n',
        ].join("\n"),
      },
    });
    expect(JSON.parse(b.labels["io.buildpacks.buildpack.system"] as string)).toEqual({
      pre: { buildpacks: [{ id: "ex/pre", version: "1.0.0", optional: true }] },
      post: { buildpacks: [{ id: "ex/post", version: "2.0.0" }] },
    });
    expect(await b.entries(buildEnv as string)).toEqual({
      entries: [
        "/cnb/build-config/env/JAVA_OPTS 644 0:0",
        "/cnb/build-config/env/LANG 644 0:0",
        "/cnb/build-config/env/MODE.override 644 0:0",
        "/cnb/build-config/env/PATH.delim 644 0:0",
        "/cnb/build-config/env/PATH.prepend 644 0:0",
        "/cnb/build-config/env/TZ.default 644 0:0",
      ],
      files: {
        "/cnb/build-config/env/JAVA_OPTS": "-Xmx1g",
        "/cnb/build-config/env/LANG": "C.UTF-8",
        "/cnb/build-config/env/MODE.override": "production",
        "/cnb/build-config/env/PATH.delim": ":",
        "/cnb/build-config/env/PATH.prepend": "/opt/tools/bin",
        "/cnb/build-config/env/TZ.default": "UTC",
      },
    });
  });

  it("writes neither layer nor label when builder.toml has neither", async () => {
    const config = await builderToml("plain.toml", "");
    const name = `${REPO}/plain:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/ system\n| build-config env\n/);
    expect((await readImage(name)).labels["io.buildpacks.buildpack.system"]).toBeUndefined();
  });

  it("refuses a system buildpack the builder does not have, at its line", async () => {
    const config = await builderToml(
      "missing.toml",
      '[[system.post.buildpacks]]\nid = "ex/post"\nversion = "9.9.9"',
    );
    const name = `${REPO}/missing-system:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:16: system.post.buildpacks[0].id names buildpack ex/post@9.9.9, which is not in the buildpacks given (there is 2.0.0)`,
    );
    expect(await client.headManifest(parseReference(name))).toBeUndefined();
  });

  it("refuses a [[build.env]] entry limited to some execution environments, at its exec-env line", async () => {
    const config = await builderToml(
      "exec-env.toml",
      '[[build.env]]\nname = "RAILS_ENV"\nvalue = "test"\nexec-env = ["test", "development"]',
    );
    const name = `${REPO}/exec-env:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:18: build.env[0].exec-env ["test","development"]: a builder cannot limit RAILS_ENV to some execution environments: the lifecycle applies every file in /cnb/build-config/env/ whatever CNB_EXEC_ENV is (Platform API 0.15); remove exec-env, or add "*", to set RAILS_ENV in all of them`,
    );
    expect(await client.headManifest(parseReference(name))).toBeUndefined();
  });

  it("refuses [build.env] as a table: it is an array of tables, [[build.env]]", async () => {
    const config = await builderToml("table.toml", '[build.env]\nname = "MODE"\nvalue = "x"');
    const r = await cnbp(["builder", "create", `${REPO}/table:1`, "--config", config, "--publish"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`error: ${config}:15: build.env must be an array, found a table`);
  });
});

describe("cnbp builder create: the deprecated [stack]", () => {
  it("takes the build and run images from [stack], and writes /cnb/stack.toml for a Platform API before 0.12", async () => {
    // a lifecycle tree that speaks Platform 0.10 to 0.12 (only its lifecycle.toml: nothing runs it)
    await mkdir(join(dir, "old-lifecycle"));
    await writeFile(
      join(dir, "old-lifecycle/lifecycle.toml"),
      '[apis.buildpack]\ndeprecated = []\nsupported = [ "0.10" ]\n\n[apis.platform]\ndeprecated = []\nsupported = [ "0.10", "0.11", "0.12" ]\n\n[lifecycle]\nversion = "0.17.0"\n',
    );
    const mirror = `${REGISTRY}/mirror/run:latest`;
    const config = join(dir, "stack.toml");
    await writeFile(
      config,
      [
        '[[buildpacks]]\nuri = "bp/hello"',
        '[[order]]\n[[order.group]]\nid = "examples/hello"',
        `[stack]\nid = "io.cnbp.busybox"\nbuild-image = "${BUILD_IMAGE}"\nrun-image = "${RUN_IMAGE}"\nrun-image-mirrors = ["${mirror}"]`,
        '[lifecycle]\nuri = "old-lifecycle"',
        "",
      ].join("\n"),
    );
    const name = `${REPO}/stack:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe(`${config}:6: warning: stack is deprecated: use [build] image and [[run.images]]`);
    expect(writtenLines(r.stdout).slice(0, -1)).toEqual([
      "written directories",
      "written lifecycle 0.17.0",
      "written buildpack examples/hello@0.1.0",
      "written order",
      "written stack",
      "written run",
    ]);
    const b = await readImage(name);
    const base = await readImage(BUILD_IMAGE);
    expect(b.config.rootfs.diff_ids.slice(0, base.config.rootfs.diff_ids.length)).toEqual(
      base.config.rootfs.diff_ids,
    );
    const [stack, run] = b.config.rootfs.diff_ids.slice(-2) as string[];
    expect(await b.entries(stack as string)).toEqual({
      entries: ["/cnb/stack.toml 644 0:0"],
      files: { "/cnb/stack.toml": `[run-image]\nimage = "${RUN_IMAGE}"\nmirrors = [ "${mirror}" ]\n` },
    });
    expect((await b.entries(run as string)).files).toEqual({
      "/cnb/run.toml": `[[images]]\nimage = "${RUN_IMAGE}"\nmirrors = [ "${mirror}" ]\n`,
    });
    const metadata = JSON.parse(b.labels["io.buildpacks.builder.metadata"] as string);
    expect([metadata.stack, metadata.images, metadata.lifecycle.api]).toEqual([
      { runImage: { image: RUN_IMAGE, mirrors: [mirror] } },
      [{ image: RUN_IMAGE, mirrors: [mirror] }],
      { buildpack: "0.10", platform: "0.10" },
    ]);
  });
});
