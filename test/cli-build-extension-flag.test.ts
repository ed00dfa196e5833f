/**
 * `cnbp build --extension` on Podman, with a builder made by `cnbp builder create` on the busybox stack that
 * has no extensions of its own: an extension from a directory and one from a `docker://` extension package
 * (made by `cnbp extension package`) run in the detector, in the order given, and their run.Dockerfiles COPY
 * files into the run image, so the build goes the extension way (no creator, even for a trusted builder).
 * A buildpack given as an extension, or an extension as a buildpack, stops the build before any container,
 * naming the flag and the value and leaving nothing behind. On a builder with an extension, `--extension`s
 * replace its extension order, and its own extension is taken by `<id>@<version>`.
 */
import { rm, writeFile } from "node:fs/promises";
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
} from "#test-utils";

const BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/extflag-builder:1`;
/** The same with the directory's extension in it, and in its extension order. */
const EXT_BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/extflag-ext-builder:1`;
const EXT_PACKAGE = `${REGISTRY}/cnbp-test/${RUN_ID}/extflag-pkg:1`;
const APP_IMAGE = `localhost/cnbp-test/${RUN_ID}/extflag-app:1`;
const VARYING_APP_IMAGE = `localhost/cnbp-test/${RUN_ID}/extflag-varying-app:1`;
/** On the extended run images of the varying extension (below), with this run's ID. */
const VARYING_LABEL = "cnbp.test.varying";

/** An extension whose run.Dockerfile COPYs `file` (saying `says`) from its context into /opt. */
const copyingExtension = (dir: string, id: string, file: string, says: string) => ({
  [`${dir}/extension.toml`]: `api = "0.10"\n[extension]\nid = "${id}"\nversion = "1.0.0"\n`,
  [`${dir}/bin/generate`]: [
    "#!/bin/sh",
    "set -eu",
    'mkdir -p "$CNB_OUTPUT_DIR/context.run"',
    `echo "${says}" > "$CNB_OUTPUT_DIR/context.run/${file}"`,
    // the run ID makes the first build of a run apply the Dockerfile rather than reuse an earlier run's
    `printf 'ARG base_image\\nFROM \${base_image}\\n# test run ${RUN_ID}\\nCOPY ${file} /opt/${file}\\n' > "$CNB_OUTPUT_DIR/run.Dockerfile"`,
    'chmod -R a+rX "$CNB_OUTPUT_DIR"',
    "",
  ].join("\n"),
});

function builderToml(extensions: readonly string[]) {
  return [
    '[[buildpacks]]\nuri = "bp/app"',
    '[[order]]\n[[order.group]]\nid = "ex/app"\nversion = "1.0.0"',
    ...extensions,
    stackTables("busybox"),
    "",
  ].join("\n");
}

const FILES: Record<string, string> = {
  "bp/app/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/app"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/app/bin/detect": "#!/bin/sh\nexit 0\n",
  "bp/app/bin/build": [
    "#!/bin/sh",
    `printf '[[processes]]\\ntype = "web"\\ncommand = ["cat", "/opt/from-dir.txt", "/opt/from-pkg.txt"]\\ndefault = true\\n' > "$CNB_LAYERS_DIR/launch.toml"`,
    "",
  ].join("\n"),
  ...copyingExtension("ext/dir", "ex/from-dir", "from-dir.txt", "copied by the extension from a directory"),
  ...copyingExtension("ext/pkg", "ex/from-pkg", "from-pkg.txt", "copied by the packaged extension"),
  "ext-pkg.toml": '[extension]\nuri = "ext/pkg"\n',
  "builder.toml": builderToml([]),
  "ext-builder.toml": builderToml([
    '[[extensions]]\nuri = "ext/dir"',
    '[[order-extensions]]\n[[order-extensions.group]]\nid = "ex/from-dir"\nversion = "1.0.0"',
  ]),
  "app/app.txt": "x",
  // an extension whose run.Dockerfile COPYs the app's varying.txt: a change of it is a new extended run image
  "ext/varying/extension.toml": 'api = "0.10"\n[extension]\nid = "ex/varying"\nversion = "1.0.0"\n',
  "ext/varying/bin/generate": [
    "#!/bin/sh",
    "set -eu",
    'mkdir -p "$CNB_OUTPUT_DIR/context.run"',
    // generate runs in the app directory
    'cp varying.txt "$CNB_OUTPUT_DIR/context.run/varying.txt"',
    `printf 'ARG base_image\\nFROM \${base_image}\\nLABEL ${VARYING_LABEL}=${RUN_ID}\\nCOPY varying.txt /opt/varying.txt\\n' > "$CNB_OUTPUT_DIR/run.Dockerfile"`,
    'chmod -R a+rX "$CNB_OUTPUT_DIR"',
    "",
  ].join("\n"),
  "varying-app/varying.txt": "one",
};

let dir: string;
let app: string;
let env: Record<string, string>;

const podman = (args: readonly string[]) => execa("podman", args, { reject: false });

const build = (extraArgs: readonly string[], builder = BUILDER) =>
  cnbp(["build", APP_IMAGE, "--path", app, "--builder", builder, "--driver", "podman", ...extraArgs], {
    env,
    cwd: dir,
  });

/** cnbp's own lines but its pulls (which depend on what the store has), without durations and image names. */
const cnbpLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("[cnbp] ") && !/^\[cnbp\] pull(ing|ed) /.test(l))
    .map((l) => l.replace(/ in [\d.]+ s$/, "").replace(/ to \S+$/, " to <image>"));

/** Containers and volumes of the app image's builds (the cache volume is meant to stay), and temp dirs. */
const leftovers = async () => ({
  ...(await buildLeftovers("podman", APP_IMAGE)),
  tempDirs: await tempDirsLeftIn(join(dir, "cache")),
});

const NOTHING_LEFT = { containers: [], volumes: [], tempDirs: [] };

beforeAll(async () => {
  ({ dir, env } = await cnbpWorkdir("cnbp-ext-flag-", FILES));
  app = join(dir, "app");
  await publish("builder create", BUILDER, join(dir, "builder.toml"), env);
  await publish("builder create", EXT_BUILDER, join(dir, "ext-builder.toml"), env);
  await publish("extension package", EXT_PACKAGE, join(dir, "ext-pkg.toml"), env);
}, 300_000);

afterAll(async () => {
  await removeImages("podman", [BUILDER, EXT_BUILDER, EXT_PACKAGE], `cnbp-test/${RUN_ID}`);
  await removeCacheVolumes("podman", [APP_IMAGE, VARYING_APP_IMAGE]);
  const varying = await varyingExtendedImages();
  if (varying.length > 0) await podman(["rmi", "-f", ...varying]);
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp build --extension", () => {
  it("runs extensions from a directory and a docker:// extension package, in order, on a builder without any", async () => {
    const r = await build([
      "--extension",
      "./ext/dir",
      "--extension",
      `docker://${EXT_PACKAGE}`,
      "--trust-builder",
    ]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(cnbpLines(r.stdout)).toEqual([
      "[cnbp] the build has image extensions (--extension): its phases run one by one (the creator cannot apply Dockerfiles)",
      "[cnbp] analyze done",
      "[cnbp] detect done",
      "[cnbp] restore done",
      "[cnbp] build done",
      "[cnbp] extension ex/from-dir: applying run.Dockerfile to <image>",
      "[cnbp] extension ex/from-pkg: applying run.Dockerfile to <image>",
      "[cnbp] extend done",
      "[cnbp] export done",
    ]);
    const out = await podman(["run", "--rm", APP_IMAGE]);
    expect(out).toMatchObject({
      exitCode: 0,
      stdout: "copied by the extension from a directory\ncopied by the packaged extension",
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  }, 300_000);

  it("replaces the builder's extension order, taking its own extension by <id>@<version>", async () => {
    const r = await build(
      [
        "--extension",
        `docker://${EXT_PACKAGE}`,
        "--extension",
        "ex/from-dir@1.0.0",
        "--buildpack",
        "ex/app@1.0.0",
      ],
      EXT_BUILDER,
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(cnbpLines(r.stdout).filter((l) => l.startsWith("[cnbp] extension "))).toEqual([
      "[cnbp] extension ex/from-pkg: applying run.Dockerfile to <image>",
      "[cnbp] extension ex/from-dir: applying run.Dockerfile to <image>",
    ]);
    expect((await podman(["run", "--rm", APP_IMAGE])).stdout).toBe(
      "copied by the extension from a directory\ncopied by the packaged extension",
    );
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  }, 300_000);
});

describe("cnbp build --extension: a module of the other kind", () => {
  it("refuses a buildpack directory given as an extension", async () => {
    const r = await build(["--extension", "./bp/app"]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr:
        'error: --extension "./bp/app" holds buildpack ex/app@1.0.0, not an extension\n  hint: give buildpacks with --buildpack',
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });

  it("refuses the builder's buildpack given as an extension", async () => {
    const r = await build(["--extension", "ex/app@1.0.0"]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr:
        'error: --extension "ex/app@1.0.0" names one of the builder\'s buildpacks, not an extension\n  hint: give buildpacks with --buildpack',
    });
  });

  it("refuses an extension directory or extension package given as a buildpack", async () => {
    const fromDir = await build(["--buildpack", "./ext/dir"]);
    expect(fromDir).toMatchObject({
      exitCode: 1,
      stderr:
        'error: --buildpack "./ext/dir" holds extension ex/from-dir@1.0.0, not a buildpack\n  hint: give extensions with --extension',
    });
    const fromPackage = await build(["--buildpack", `docker://${EXT_PACKAGE}`]);
    expect(fromPackage).toMatchObject({
      exitCode: 1,
      stderr: `error: --buildpack "docker://${EXT_PACKAGE}" holds extension ex/from-pkg@1.0.0, not a buildpack\n  hint: give extensions with --extension`,
    });
    expect(await leftovers()).toEqual(NOTHING_LEFT);
  });
});

describe("cnbp build: the extended images an app image keeps", () => {
  it("removes the previous build's extended run image once a changed extension no longer uses it, and cache prune the last", async () => {
    const varyingBuild = () =>
      cnbp(
        [
          "build",
          VARYING_APP_IMAGE,
          "--path",
          join(dir, "varying-app"),
          "--builder",
          BUILDER,
          "--driver",
          "podman",
          "--extension",
          "./ext/varying",
        ],
        { env, cwd: dir },
      );
    const first = await varyingBuild();
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).toBe(0);
    const made = await varyingExtendedImages();
    expect(made).toEqual([expect.stringMatching(/^localhost\/cnbp-extended\/run:[0-9a-f]{24}$/)]);

    await writeFile(join(dir, "varying-app", "varying.txt"), "two");
    const changed = await varyingBuild();
    expect(changed.exitCode, `${changed.stdout}\n${changed.stderr}`).toBe(0);
    const remade = await varyingExtendedImages();
    expect(remade).toEqual([expect.stringMatching(/^localhost\/cnbp-extended\/run:[0-9a-f]{24}$/)]);
    expect(remade).not.toEqual(made);

    const unchanged = await varyingBuild();
    expect(unchanged.exitCode, `${unchanged.stdout}\n${unchanged.stderr}`).toBe(0);
    expect(unchanged.stdout).toContain(
      `[cnbp] extension ex/varying: run.Dockerfile unchanged, reusing ${remade[0]}\n`,
    );
    expect(await varyingExtendedImages()).toEqual(remade);

    // pruning the app image's caches takes its extended image along
    const pruned = await cnbp(["cache", "prune", "--image", VARYING_APP_IMAGE, "--driver", "podman"], {
      env,
    });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain(`Removed extended image ${remade[0]}\n`);
    expect(await varyingExtendedImages()).toEqual([]);
  }, 300_000);
});

/** The store's extended run images the varying extension made in this run, by name. */
async function varyingExtendedImages(): Promise<string[]> {
  const r = await podman([
    "images",
    "--format",
    "{{.Repository}}:{{.Tag}}",
    "--filter",
    `label=${VARYING_LABEL}=${RUN_ID}`,
  ]);
  // the app images built on them have the label too
  return r.stdout.split("\n").filter((name) => name.startsWith("localhost/cnbp-extended/run:"));
}
