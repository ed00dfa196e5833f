/**
 * `cnbp build --buildpack` and project.toml's buildpacks on Podman, with a builder made by `cnbp builder
 * create` on the busybox stack: buildpacks from a directory, a .tgz and `docker://` buildpackages (one a
 * composite with its dependency) are mounted into the phases (the builder image stays as it is), detected,
 * built, and their processes run;
 * `<id>@<version>` picks the builder's own; project.toml's group, pre and post (an inline script too) order
 * them; bad input stops before any container with the flag value named, leaving nothing behind.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildLeftovers,
  cnbp,
  cnbpWorkdir,
  publish,
  REGISTRY,
  RUN_ID,
  removeCacheVolumes,
  removeImages,
  stackTables,
  tempDirsLeftIn,
  writeApp,
} from "#test-utils";

const BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/bp-builder:1`;
const PACKAGE = `${REGISTRY}/cnbp-test/${RUN_ID}/extra-pkg:1`;
const COMPOSITE = `${REGISTRY}/cnbp-test/${RUN_ID}/meta-pkg:1`;
const APP_IMAGE = `localhost/cnbp-test/${RUN_ID}/bp-app:1`;

const descriptor = (id: string, version: string, api = "0.12") =>
  `api = "${api}"\n[buildpack]\nid = "${id}"\nversion = "${version}"\n[[targets]]\nos = "linux"\n`;

/** A buildpack that always passes detection, says it built and adds a process `<type>` that echoes `says`. */
const extra = (dir: string, id: string, version: string, type: string, says: string, api?: string) => ({
  [`${dir}/buildpack.toml`]: descriptor(id, version, api),
  [`${dir}/bin/detect`]: "#!/bin/sh\nexit 0\n",
  [`${dir}/bin/build`]: [
    "#!/bin/sh",
    "set -eu",
    `echo "${id}: building"`,
    `printf '[[processes]]\\ntype = "${type}"\\ncommand = ["echo", "${says}"]\\n' > "$CNB_LAYERS_DIR/launch.toml"`,
    "",
  ].join("\n"),
});

const FILES: Record<string, string> = {
  "bp/runtime/buildpack.toml": descriptor("ex/runtime", "1.0.0", "0.10"),
  "bp/runtime/bin/detect": "#!/bin/sh\nexit 0\n",
  "bp/runtime/bin/build": '#!/bin/sh\necho "ex/runtime: building"\n',
  "bp/app/buildpack.toml": descriptor("ex/app", "1.0.0"),
  "bp/app/bin/detect": "#!/bin/sh\n[ -f app.txt ] || exit 100\n",
  "bp/app/bin/build": [
    "#!/bin/sh",
    'echo "ex/app: building"',
    `printf '[[processes]]\\ntype = "web"\\ncommand = ["cat", "/workspace/app.txt"]\\ndefault = true\\n' > "$CNB_LAYERS_DIR/launch.toml"`,
    "",
  ].join("\n"),
  ...extra("bp/extra-dir", "ex/extra-dir", "1.0.0", "dir", "from the directory"),
  ...extra("bp/extra-tgz", "ex/extra-tgz", "2.0.0", "tgz", "from the tgz"),
  ...extra("bp/extra-pkg", "ex/extra-pkg", "3.0.0", "pkg", "from the buildpackage"),
  ...extra("bp/old-api", "ex/old-api", "1.0.0", "old", "never", "0.6"),
  ...extra("bp/dep", "ex/dep", "1.0.0", "dep", "from the dependency"),
  "bp/meta/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/meta"\nversion = "1.0.0"\n[[order]]\n[[order.group]]\nid = "ex/dep"\nversion = "1.0.0"\n',
  "bp/windows/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/windows"\nversion = "1.0.0"\n[[targets]]\nos = "windows"\n',
  "bp/windows/bin/detect": "#!/bin/sh\nexit 0\n",
  "bp/windows/bin/build": "#!/bin/sh\nexit 0\n",
  "extra-pkg.toml": '[buildpack]\nuri = "bp/extra-pkg"\n',
  "meta-pkg.toml": '[buildpack]\nuri = "bp/meta"\n[[dependencies]]\nuri = "bp/dep"\n',
  "builder.toml": [
    '[[buildpacks]]\nuri = "bp/runtime"',
    '[[buildpacks]]\nuri = "bp/app"',
    '[[order]]\n[[order.group]]\nid = "ex/runtime"\nversion = "1.0.0"\n[[order.group]]\nid = "ex/app"\nversion = "1.0.0"',
    stackTables("busybox"),
    "",
  ].join("\n"),
};

let dir: string;
let env: Record<string, string>;

const podman = (args: readonly string[]) => execa("podman", args, { reject: false });

const build = (app: string, extraArgs: readonly string[]) =>
  cnbp(["build", APP_IMAGE, "--path", app, "--builder", BUILDER, "--driver", "podman", ...extraArgs], {
    env,
    cwd: dir,
  });

/** The lines buildpacks printed while building (`<id>: building`), in order. */
const built = (stdout: string) => stdout.split("\n").filter((l) => / building$/.test(l));

/** What the detector printed: the group that passed, one `<id> <version>` line per buildpack, aligned. */
const detected = (stdout: string) => stdout.split("\n").filter((l) => /^ex\/[a-z-]+ +\d+\.\d+\.\d+$/.test(l));

const runProcess = (type: string) =>
  podman(["run", "--rm", "--entrypoint", `/cnb/process/${type}`, APP_IMAGE]);

/** Containers and volumes of the app image's builds (the cache volume is meant to stay), and temp dirs. */
const leftovers = async () => ({
  ...(await buildLeftovers("podman", APP_IMAGE)),
  tempDirs: await tempDirsLeftIn(join(dir, "cache")),
});

const NOTHING_LEFT = { containers: [], volumes: [], tempDirs: [] };

beforeAll(async () => {
  ({ dir, env } = await cnbpWorkdir("cnbp-build-bp-", FILES));
  await execa("tar", ["-czf", join(dir, "extra-tgz.tgz"), "-C", join(dir, "bp/extra-tgz"), "."]);
  await publish("builder create", BUILDER, join(dir, "builder.toml"), env);
  await publish("buildpack package", PACKAGE, join(dir, "extra-pkg.toml"), env);
  await publish("buildpack package", COMPOSITE, join(dir, "meta-pkg.toml"), env);
});

afterAll(async () => {
  await removeImages("podman", [APP_IMAGE, BUILDER]);
  await removeCacheVolumes("podman", [APP_IMAGE]);
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp build --buildpack", () => {
  it("builds with buildpacks from a directory, a .tgz and a docker:// buildpackage, in the order given", async () => {
    const app = await writeApp(dir, "app", { "app.txt": "the app\n" });
    const r = await build(app, [
      "--buildpack",
      "ex/runtime@1.0.0",
      "--buildpack",
      "./bp/extra-dir",
      "-b",
      join(dir, "extra-tgz.tgz"),
      "-b",
      `docker://${PACKAGE}`,
      "-b",
      "urn:cnb:builder:ex/app",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(detected(r.stdout), r.stdout).toEqual([
      "ex/runtime   1.0.0",
      "ex/extra-dir 1.0.0",
      "ex/extra-tgz 2.0.0",
      "ex/extra-pkg 3.0.0",
      "ex/app       1.0.0",
    ]);
    expect(built(r.stdout)).toEqual([
      "ex/runtime: building",
      "ex/extra-dir: building",
      "ex/extra-tgz: building",
      "ex/extra-pkg: building",
      "ex/app: building",
    ]);
    expect(await runProcess("dir")).toMatchObject({ exitCode: 0, stdout: "from the directory" });
    expect(await runProcess("tgz")).toMatchObject({ exitCode: 0, stdout: "from the tgz" });
    expect(await runProcess("pkg")).toMatchObject({ exitCode: 0, stdout: "from the buildpackage" });
    expect(await podman(["run", "--rm", APP_IMAGE])).toMatchObject({ exitCode: 0, stdout: "the app" });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("mounts a composite buildpackage's dependencies and orders its entry", async () => {
    const app = await writeApp(dir, "composite", { "app.txt": "the app\n" });
    const r = await build(app, ["--buildpack", `docker://${COMPOSITE}`, "--buildpack", "ex/app@1.0.0"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(detected(r.stdout), r.stdout).toEqual(["ex/dep 1.0.0", "ex/app 1.0.0"]);
    expect(built(r.stdout)).toEqual(["ex/dep: building", "ex/app: building"]);
    expect(await runProcess("dep")).toMatchObject({ exitCode: 0, stdout: "from the dependency" });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("runs only the builder's buildpack given as <id>@<version>, with the creator too", async () => {
    const app = await writeApp(dir, "only-runtime", { "app.txt": "x" });
    const r = await build(app, ["--buildpack", "ex/runtime@1.0.0", "--trust-builder"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(detected(r.stdout), r.stdout).toEqual(["ex/runtime 1.0.0"]);
    expect(built(r.stdout)).toEqual(["ex/runtime: building"]);
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("takes project.toml's group, and its pre (an inline script) and post around the builder's order", async () => {
    const grouped = await writeApp(dir, "grouped", {
      "app.txt": "x",
      "project.toml": [
        '[_]\nschema-version = "0.2"',
        '[[io.buildpacks.group]]\nuri = "../bp/extra-dir"',
        '[[io.buildpacks.group]]\nid = "ex/runtime"\nversion = "1.0.0"',
        "",
      ].join("\n"),
    });
    const g = await build(grouped, []);
    expect(g.exitCode, g.stderr).toBe(0);
    expect(built(g.stdout)).toEqual(["ex/extra-dir: building", "ex/runtime: building"]);

    const wrapped = await writeApp(dir, "wrapped", {
      "app.txt": "x",
      "project.toml": [
        '[_]\nschema-version = "0.2"',
        '[[io.buildpacks.pre.group]]\nid = "ex/inline"',
        '[io.buildpacks.pre.group.script]\napi = "0.10"\ninline = "echo ex/inline: building"',
        '[[io.buildpacks.post.group]]\nuri = "../extra-tgz.tgz"',
        "",
      ].join("\n"),
    });
    const w = await build(wrapped, []);
    expect(w.exitCode, w.stderr).toBe(0);
    expect(detected(w.stdout)).toEqual([
      "ex/inline    0.0.0",
      "ex/runtime   1.0.0",
      "ex/app       1.0.0",
      "ex/extra-tgz 2.0.0",
    ]);
    expect(built(w.stdout)).toEqual([
      "ex/inline: building",
      "ex/runtime: building",
      "ex/app: building",
      "ex/extra-tgz: building",
    ]);
    // --buildpack replaces project.toml's group, and pre and post still wrap it
    const f = await build(wrapped, ["--buildpack", "ex/runtime@1.0.0"]);
    expect(f.exitCode, f.stderr).toBe(0);
    expect(built(f.stdout)).toEqual([
      "ex/inline: building",
      "ex/runtime: building",
      "ex/extra-tgz: building",
    ]);
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });
});

describe("cnbp build --buildpack: bad input", () => {
  let app: string;
  beforeAll(async () => {
    app = await writeApp(dir, "bad", { "app.txt": "x" });
  });

  it("names a directory that does not exist", async () => {
    const r = await build(app, ["--buildpack", "./bp/nowhere"]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr: `error: --buildpack "./bp/nowhere": ${join(dir, "bp/nowhere")} does not exist\n  hint: give a buildpack directory or archive (with buildpack.toml), docker://<buildpackage>, or <id>@<version> of the builder's`,
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("names an <id>@<version> the builder does not have", async () => {
    const r = await build(app, ["--buildpack", "ex/app@9.9.9"]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr:
        'error: --buildpack "ex/app@9.9.9": the builder has no buildpack ex/app@9.9.9\n  hint: the builder has ex/app@1.0.0, ex/runtime@1.0.0',
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("names a buildpack whose API the builder's lifecycle does not support", async () => {
    const r = await build(app, ["--buildpack", "./bp/old-api"]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr: `error: --buildpack "./bp/old-api": buildpack ex/old-api@1.0.0 has Buildpack API 0.6, which the lifecycle of builder ${BUILDER} does not support (it supports 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)\n  hint: use a version of the buildpack for an API the builder's lifecycle supports, or a newer builder`,
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("names a buildpack whose targets do not include the builder's", async () => {
    const r = await build(app, ["--buildpack", "./bp/windows"]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr: `error: --buildpack "./bp/windows": buildpack ex/windows@1.0.0 runs on windows/*, not on builder ${BUILDER}'s linux/amd64\n  hint: use a builder for one of the buildpack's targets`,
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });
});
