/**
 * The builder on real files: buildpacks are `#!/bin/sh` scripts written into a temp dir, run as uid 1000 (CI
 * runs as root), and the test asserts the exact argv and env they saw, the files left in <layers> and the
 * exact metadata.toml, SBOM tree, errors and exit codes.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { captureLog } from "../cache/test-support/fixtures.js";
import { LifecycleError } from "../exit-codes.js";
import { BUILDER_FLAGS, builder, runBuilder } from "./builder.js";
import { startPhase } from "./start.js";

const USER = 1000;
const dirs: string[] = [];
let root: string;
let app: string;
let layers: string;
let platform: string;
let buildConfig: string;
let buildpacks: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-builder-"));
  dirs.push(root);
  await chmod(root, 0o755);
  app = join(root, "workspace");
  layers = join(root, "layers");
  platform = join(root, "platform");
  buildConfig = join(root, "build-config");
  buildpacks = join(root, "buildpacks");
  for (const d of [app, layers, platform, buildConfig, buildpacks]) await mkdir(d, { mode: 0o755 });
  await chown(app, USER, USER);
  await writeFile(join(layers, "plan.toml"), "");
  await writeFile(
    join(layers, "analyzed.toml"),
    '[run-image]\nreference = ""\n[run-image.target]\nos = "linux"\narch = "arm64"\narch-variant = "v8"\n[run-image.target.distro]\nname = "ubuntu"\nversion = "22.04"\n',
  );
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Bp {
  readonly id: string;
  readonly version?: string;
  readonly api?: string;
  /** The body of bin/build (after `#!/bin/sh` and `set -e`). */
  readonly build?: string;
  /** Extra `[buildpack]` keys. */
  readonly info?: string;
}

const LIFECYCLE_ENV = {
  CNB_PLATFORM_API: "0.15",
  PATH: "/usr/bin:/bin",
  HOME: "/home/builder",
  CNB_REGISTRY_AUTH: '{"registry.example":"Basic c2VjcmV0"}',
  BUILDER_IMAGE_ENV: "not for buildpacks",
};

/** Writes the buildpacks and group.toml; `null` build means no bin/build. */
async function setup(bps: readonly Bp[]) {
  for (const bp of bps) {
    const dir = join(buildpacks, bp.id.replaceAll("/", "_"), bp.version ?? "1.0.0");
    await mkdir(join(dir, "bin"), { recursive: true, mode: 0o755 });
    await writeFile(
      join(dir, "buildpack.toml"),
      `api = "${bp.api ?? "0.12"}"\n[buildpack]\nid = "${bp.id}"\nversion = "${bp.version ?? "1.0.0"}"\n${bp.info ?? ""}\n`,
    );
    if (bp.build !== undefined) {
      await writeFile(join(dir, "bin", "build"), `#!/bin/sh\nset -e\n${bp.build}\n`, { mode: 0o755 });
    }
  }
  const group = bps
    .map(
      (bp) =>
        `[[group]]\nid = "${bp.id}"\nversion = "${bp.version ?? "1.0.0"}"\napi = "${bp.api ?? "0.12"}"\n`,
    )
    .join("\n");
  await writeFile(join(layers, "group.toml"), group);
}

const bpDir = (id: string) => join(buildpacks, id.replaceAll("/", "_"), "1.0.0");

function inputs(extraEnv: Record<string, string> = {}, argv: string[] = []) {
  const env = {
    ...LIFECYCLE_ENV,
    CNB_APP_DIR: app,
    CNB_LAYERS_DIR: layers,
    CNB_PLATFORM_DIR: platform,
    CNB_BUILD_CONFIG_DIR: buildConfig,
    CNB_BUILDPACKS_DIR: buildpacks,
    CNB_USER_ID: String(USER),
    CNB_GROUP_ID: String(USER),
    ...extraEnv,
  };
  return { env, inputs: startPhase("builder", argv, env, BUILDER_FLAGS).inputs };
}

async function run(extraEnv: Record<string, string> = {}) {
  const { env, inputs: resolved } = inputs(extraEnv);
  const captured = captureLog("debug");
  const result = await runBuilder(resolved, env, captured.log, { output: "collect" });
  return { result, out: captured.out, err: captured.err };
}

async function failure(promise: Promise<unknown>): Promise<{ exitCode: number; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof LifecycleError)) throw new Error(`expected a LifecycleError, got ${String(err)}`);
  return { exitCode: err.exitCode, message: err.message };
}

/** Every path under `dir` (directories with a trailing `/`) and the content of files. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[`${relative(dir, p)}/`] = "";
        await walk(p);
      } else out[relative(dir, p)] = await readFile(p, "utf8");
    }
  };
  await walk(dir);
  return out;
}

/** `env` output as a record (values are single-line in these tests). */
async function envDump(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

const DUMP = 'env | sort > "$1/env.txt"\nprintf "%s\\n" "$@" > "$1/argv.txt"\ncat "$3" > "$1/plan.txt"';

describe("bin/build's inputs", () => {
  it("gets $1 its layers dir, $2 the platform, $3 its plan, and exactly the build env for its API", async () => {
    await setup([{ id: "example/node", build: DUMP }]);
    await writeFile(
      join(layers, "plan.toml"),
      '[[entries]]\n[[entries.providers]]\nid = "example/node"\nversion = "1.0.0"\n[[entries.requires]]\nname = "node"\n[entries.requires.metadata]\nversion = "20"\n',
    );
    await run();
    const own = join(layers, "example_node");
    const argv = (await readFile(join(own, "argv.txt"), "utf8")).split("\n");
    const planPath = argv[2] as string;
    expect(planPath).toMatch(new RegExp(`^${tmpdir()}/example_node-[^/]+/example_node/plan.toml$`));
    expect(argv).toEqual([own, platform, planPath, ""]);
    expect(await readFile(join(own, "plan.txt"), "utf8")).toBe(
      '[[entries]]\nname = "node"\n\n[entries.metadata]\nversion = "20"\n',
    );
    expect(await envDump(join(own, "env.txt"))).toEqual({
      CNB_BP_PLAN_PATH: planPath,
      CNB_BUILDPACK_DIR: bpDir("example/node"),
      CNB_EXEC_ENV: "production",
      CNB_LAYERS_DIR: own,
      CNB_PLATFORM_DIR: platform,
      CNB_TARGET_ARCH: "arm64",
      CNB_TARGET_ARCH_VARIANT: "v8",
      CNB_TARGET_DISTRO_NAME: "ubuntu",
      CNB_TARGET_DISTRO_VERSION: "22.04",
      CNB_TARGET_OS: "linux",
      HOME: "/home/builder",
      PATH: "/usr/bin:/bin",
      PWD: app,
    });
    // the plan's temp dir is gone once the buildpack is done
    await expect(stat(dirname(planPath))).rejects.toThrow("ENOENT");
  });

  it("gives a Buildpack API 0.7 buildpack only the positional arguments and CNB_BUILDPACK_DIR", async () => {
    await setup([{ id: "example/old", api: "0.7", build: DUMP }]);
    await run();
    const env = await envDump(join(layers, "example_old", "env.txt"));
    expect(env).toEqual({
      CNB_BUILDPACK_DIR: bpDir("example/old"),
      HOME: "/home/builder",
      PATH: "/usr/bin:/bin",
      PWD: app,
    });
  });

  it("fills the distro from /etc/os-release when analyzed.toml has none", async () => {
    await setup([{ id: "example/node", build: DUMP }]);
    await writeFile(
      join(layers, "analyzed.toml"),
      '[run-image]\nreference = ""\n[run-image.target]\nos = "linux"\narch = "amd64"\n',
    );
    await writeFile(join(root, "os-release"), 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n');
    const { env, inputs: resolved } = inputs();
    await runBuilder(resolved, env, captureLog().log, {
      output: "collect",
      osReleasePath: join(root, "os-release"),
    });
    const seen = await envDump(join(layers, "example_node", "env.txt"));
    expect([
      seen.CNB_TARGET_OS,
      seen.CNB_TARGET_ARCH,
      seen.CNB_TARGET_DISTRO_NAME,
      seen.CNB_TARGET_DISTRO_VERSION,
    ]).toEqual(["linux", "amd64", "debian", "12"]);
    expect(seen.CNB_TARGET_ARCH_VARIANT).toBeUndefined();
  });

  it("runs as the build user in the app dir: what bin/build writes is owned by uid 1000", async () => {
    await setup([
      {
        id: "example/node",
        build: 'id -u > "$1/uid.txt"\nmkdir "$1/node"\necho built > "$1/node/file"\necho app > app-file',
      },
    ]);
    const { result } = await run();
    const own = join(layers, "example_node");
    expect(await readFile(join(own, "uid.txt"), "utf8")).toBe("1000\n");
    for (const p of [
      own,
      join(own, "node", "file"),
      join(app, "app-file"),
      join(layers, "config", "metadata.toml"),
    ]) {
      expect((await stat(p)).uid, p).toBe(USER);
    }
    expect(result.metadataPath).toBe(join(layers, "config", "metadata.toml"));
  });
});

describe("the build environment across buildpacks", () => {
  /** Writes layer `name` of the running buildpack: its toml, path dirs, and env files `{ "env/NAME.suffix": value }`. */
  const layer = (name: string, types: string, files: Record<string, string>) =>
    [
      `printf '[types]\\n${types}\\n' > "$1/${name}.toml"`,
      `mkdir -p "$1/${name}/bin" "$1/${name}/lib" "$1/${name}/include" "$1/${name}/pkgconfig"`,
      ...Object.entries(files).map(
        ([file, value]) =>
          `mkdir -p "$(dirname "$1/${name}/${file}")" && printf '%s' '${value}' > "$1/${name}/${file}"`,
      ),
    ].join("\n");

  it("applies earlier build layers, then the platform env, then the operator's env, with every suffix rule", async () => {
    await setup([
      {
        id: "example/first",
        build: [
          layer("a-build", "build = true", {
            "env/OVERRIDDEN.override": "first",
            "env/DEFAULTED.default": "a-default",
            "env/APPENDED.append": "a",
            "env/APPENDED.delim": ":",
            "env/PREPENDED.prepend": "a",
            "env/PREPENDED.delim": ":",
            "env/PLAIN": "a-plain",
            "env.build/BUILD_ONLY": "yes",
            "env.launch/LAUNCH_ONLY": "no",
          }),
          layer("b-launch", "launch = true", { "env/NOT_BUILD": "x" }),
          layer("c-build", "build = true\\ncache = true", {
            "env/DEFAULTED.default": "c-default",
            "env/APPENDED.append": "c",
            "env/APPENDED.delim": ":",
            "env/PREPENDED.prepend": "c",
            "env/PREPENDED.delim": ":",
            "env/NO_DELIM.append": "c",
          }),
        ].join("\n"),
      },
      { id: "example/second", build: DUMP },
      { id: "example/clean", build: DUMP, info: "clear-env = true" },
    ]);
    await mkdir(join(platform, "env"));
    await writeFile(join(platform, "env", "PATH"), "/platform/bin");
    await writeFile(join(platform, "env", "OVERRIDDEN"), "platform");
    await writeFile(join(platform, "env", "PLATFORM_ONLY"), "p");
    await writeFile(join(platform, "env", "CPATH"), "/platform/include");
    await mkdir(join(buildConfig, "env"));
    await writeFile(join(buildConfig, "env", "DEFAULTED"), "operator-default");
    await writeFile(join(buildConfig, "env", "OPERATOR_DEFAULT"), "cfg");
    await writeFile(join(buildConfig, "env", "PLAIN.override"), "operator");
    await run();

    const first = join(layers, "example_first");
    const fromLayers = {
      APPENDED: "a:c",
      BUILD_ONLY: "yes",
      DEFAULTED: "a-default",
      LD_LIBRARY_PATH: `${first}/c-build/lib:${first}/a-build/lib`,
      LIBRARY_PATH: `${first}/c-build/lib:${first}/a-build/lib`,
      NO_DELIM: "c",
      OPERATOR_DEFAULT: "cfg",
      PKG_CONFIG_PATH: `${first}/c-build/pkgconfig:${first}/a-build/pkgconfig`,
      PLAIN: "operator",
      PREPENDED: "c:a",
      HOME: "/home/builder",
    };
    const second = await envDump(join(layers, "example_second", "env.txt"));
    expect(Object.fromEntries(Object.entries(second).filter(([k]) => !k.startsWith("CNB_")))).toEqual({
      ...fromLayers,
      CPATH: `/platform/include:${first}/c-build/include:${first}/a-build/include`,
      OVERRIDDEN: "platform",
      PATH: `/platform/bin:${first}/c-build/bin:${first}/a-build/bin:/usr/bin:/bin`,
      PLATFORM_ONLY: "p",
      PWD: app,
    });
    const clean = await envDump(join(layers, "example_clean", "env.txt"));
    expect(Object.fromEntries(Object.entries(clean).filter(([k]) => !k.startsWith("CNB_")))).toEqual({
      ...fromLayers,
      CPATH: `${first}/c-build/include:${first}/a-build/include`,
      OVERRIDDEN: "first",
      PATH: `${first}/c-build/bin:${first}/a-build/bin:/usr/bin:/bin`,
      PWD: app,
    });
  });
});
