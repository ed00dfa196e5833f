/**
 * The builder on real files: buildpacks are `#!/bin/sh` scripts written into a temp dir, run as uid 1000 (CI
 * runs as root), and the test asserts the exact argv and env they saw, the files left in <layers> and the
 * exact metadata.toml, SBOM tree, errors and exit codes.
 */
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { captureLog, tree } from "../cache/test-support/fixtures.js";
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

describe("layers", () => {
  it("keeps typed layers, renames untyped ones to <layer>.ignore/, and shows later buildpacks only build layers", async () => {
    await setup([
      {
        id: "example/node",
        build: [
          `printf '[types]\\nlaunch = true\\n[metadata]\\nv = "1"\\n' > "$1/keep.toml"`,
          'mkdir -p "$1/keep/bin" && echo k > "$1/keep/bin/tool"',
          // restored from the cache and not re-declared: metadata only
          `printf '[metadata]\\nv = "old"\\n' > "$1/scratch.toml"`,
          'mkdir "$1/scratch" && echo s > "$1/scratch/tmp"',
          `printf '[types]\\nbuild = false\\n' > "$1/off.toml"`,
          'mkdir "$1/off"',
          'mkdir "$1/undescribed"',
          'mkdir "$1/old.ignore" && echo stale > "$1/old.ignore/x"',
          `printf '[types]\\nbuild = false\\n' > "$1/old.toml"`,
          'mkdir "$1/old"',
        ].join("\n"),
      },
      { id: "example/next", build: 'echo "$PATH" > "$1/path.txt"' },
    ]);
    const { result } = await run();
    expect(await tree(join(layers, "example_node"))).toEqual({
      "keep.toml": '[types]\nlaunch = true\n[metadata]\nv = "1"\n',
      "keep/": "",
      "keep/bin/": "",
      "keep/bin/tool": "k\n",
      "off.ignore/": "",
      "off.toml": "[types]\nbuild = false\n",
      "old.ignore/": "",
      "old.toml": "[types]\nbuild = false\n",
      "scratch.ignore/": "",
      "scratch.ignore/tmp": "s\n",
      "scratch.toml": '[metadata]\nv = "old"\n',
      "undescribed/": "",
    });
    expect(await readFile(join(layers, "example_next", "path.txt"), "utf8")).toBe("/usr/bin:/bin\n");
    expect(result.buildpacks[0]?.layers).toEqual([
      {
        name: "keep",
        path: join(layers, "example_node", "keep"),
        types: { launch: true, build: false, cache: false },
      },
      {
        name: "off",
        path: join(layers, "example_node", "off"),
        types: { launch: false, build: false, cache: false },
      },
      {
        name: "old",
        path: join(layers, "example_node", "old"),
        types: { launch: false, build: false, cache: false },
      },
      {
        name: "scratch",
        path: join(layers, "example_node", "scratch"),
        types: { launch: false, build: false, cache: false },
      },
    ]);
  });

  it.each([
    [
      "launch",
      'mkdir "$1/launch"',
      'a layer cannot be named "launch" (launch.toml is the buildpack\'s launch metadata)',
      "launch",
    ],
    [
      "store",
      'mkdir "$1/store"',
      'a layer cannot be named "store" (store.toml is the buildpack\'s store metadata)',
      "store",
    ],
    [
      "..",
      `printf '[types]\\nbuild = true\\n' > "$1/...toml"`,
      '".." is not a layer name (not empty, ".", ".." or with "/")',
      "...toml",
    ],
  ])("refuses a layer named %s", async (_, script, rule, file) => {
    await setup([{ id: "example/node", build: script }]);
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: buildpack example/node@1.0.0: ${join(layers, "example_node", file)}: ${rule}`,
    });
  });

  it("refuses layer types outside [types]", async () => {
    await setup([{ id: "example/node", build: `printf 'launch = true\\n' > "$1/node.toml"` }]);
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: buildpack example/node@1.0.0: ${join(layers, "example_node", "node.toml")}: launch is not allowed at the top level: it belongs under [types]`,
    });
  });

  it("refuses a <layer>.toml that is a symlink (the lifecycle may be root)", async () => {
    await setup([{ id: "example/node", build: 'ln -s /etc/shadow "$1/node.toml"' }]);
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: buildpack example/node@1.0.0: ${join(layers, "example_node", "node.toml")}: must be a regular file, found a symlink`,
    });
  });
});

describe("the buildpack plan", () => {
  const plan = `
[[entries]]
  [[entries.providers]]
    id = "example/a"
    version = "1.0.0"
  [[entries.providers]]
    id = "example/b"
    version = "1.0.0"
  [[entries.requires]]
    name = "node"
    [entries.requires.metadata]
      version = "20"
  [[entries.requires]]
    name = "node"
    [entries.requires.metadata]
      launch = true
[[entries]]
  [[entries.providers]]
    id = "example/a"
    version = "1.0.0"
  [[entries.providers]]
    id = "example/b"
    version = "1.0.0"
  [[entries.requires]]
    name = "npm"
[[entries]]
  [[entries.providers]]
    id = "example/b"
    version = "1.0.0"
  [[entries.providers]]
    id = "example/apt"
    version = "1.0.0"
    extension = true
  [[entries.requires]]
    name = "yarn"
[[entries]]
  [[entries.providers]]
    id = "example/a"
    version = "1.0.0"
    extension = true
  [[entries.requires]]
    name = "from-an-extension"
`;

  it("hands each buildpack its entries and passes on only the ones it left unmet", async () => {
    await setup([
      {
        id: "example/a",
        build: `cat "$3" > "$1/plan.txt"\nprintf '[[unmet]]\\nname = "node"\\n' > "$1/build.toml"`,
      },
      { id: "example/b", build: 'cat "$3" > "$1/plan.txt"' },
      { id: "example/c", build: 'cat "$3" > "$1/plan.txt"' },
    ]);
    await writeFile(join(layers, "plan.toml"), plan);
    await run();
    expect(await readFile(join(layers, "example_a", "plan.txt"), "utf8")).toBe(
      '[[entries]]\nname = "node"\n\n[entries.metadata]\nversion = "20"\n\n[[entries]]\nname = "node"\n\n[entries.metadata]\nlaunch = true\n\n[[entries]]\nname = "npm"\n',
    );
    expect(await readFile(join(layers, "example_b", "plan.txt"), "utf8")).toBe(
      '[[entries]]\nname = "node"\n\n[entries.metadata]\nversion = "20"\n\n[[entries]]\nname = "node"\n\n[entries.metadata]\nlaunch = true\n\n[[entries]]\nname = "yarn"\n',
    );
    expect(await readFile(join(layers, "example_c", "plan.txt"), "utf8")).toBe("");
  });

  it("refuses an unmet name the buildpack was not given", async () => {
    await setup([{ id: "example/a", build: `printf '[[unmet]]\\nname = "ruby"\\n' > "$1/build.toml"` }]);
    await writeFile(join(layers, "plan.toml"), plan);
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: buildpack example/a@1.0.0: ${join(layers, "example_a", "build.toml")}: unmet[0].name "ruby" is not an entry of the buildpack plan`,
    });
  });
});

describe("launch.toml and metadata.toml", () => {
  /** bin/build writing this launch.toml. */
  const launch = (toml: string) => `cat > "$1/launch.toml" <<'TOML'\n${toml}\nTOML`;

  it("merges processes by type across Buildpack APIs and writes the exact metadata.toml", async () => {
    await setup([
      {
        id: "example/old",
        api: "0.8",
        build: launch(`[[labels]]
key = "org.example.runtime"
value = "node"
[[processes]]
type = "web"
command = "node server.js"
direct = true
default = true
working-dir = "/workspace/web"
[[processes]]
type = "worker"
command = "node worker.js"
[[slices]]
paths = ["public/*"]`),
      },
      {
        id: "example/new",
        api: "0.12",
        build: launch(`[[labels]]
key = "org.example.team"
value = "web"
[[processes]]
type = "worker"
command = ["java", "-jar", "worker.jar"]
args = ["--queue", "jobs"]
exec-env = ["production"]
[[processes]]
type = "a-task"
command = ["task"]
[[slices]]
paths = ["static", "*.html"]`),
      },
    ]);
    await writeFile(
      join(layers, "group.toml"),
      `[[group]]\nid = "example/old"\nversion = "1.0.0"\napi = "0.8"\nhomepage = "https://example.com/old"\n\n[[group]]\nid = "example/new"\nversion = "1.0.0"\napi = "0.12"\n\n[[group-extensions]]\nid = "example/apt"\nversion = "0.1.0"\napi = "0.10"\n`,
    );
    await run();
    expect(
      await readFile(join(layers, "config", "metadata.toml"), "utf8"),
    ).toBe(`buildpack-default-process-type = "web"

[[buildpacks]]
id = "example/old"
version = "1.0.0"
api = "0.8"
homepage = "https://example.com/old"

[[buildpacks]]
id = "example/new"
version = "1.0.0"
api = "0.12"

[[extensions]]
id = "example/apt"
version = "0.1.0"
api = "0.10"

[[labels]]
key = "org.example.runtime"
value = "node"

[[labels]]
key = "org.example.team"
value = "web"

[[processes]]
type = "a-task"
command = [ "task" ]
direct = true
buildpack-id = "example/new"

[[processes]]
type = "web"
command = [ "node server.js" ]
direct = true
buildpack-id = "example/old"
working-dir = "/workspace/web"

[[processes]]
type = "worker"
command = [ "java", "-jar", "worker.jar" ]
args = [ "--queue", "jobs" ]
direct = true
buildpack-id = "example/new"
exec-env = [ "production" ]

[[slices]]
paths = [ "public/*" ]

[[slices]]
paths = [ "static", "*.html" ]
`);
  });

  it("keeps a 0.8 shell process indirect and drops a 0.7 working-dir with a warning", async () => {
    await setup([
      {
        id: "example/old",
        api: "0.7",
        build: launch('[[processes]]\ntype = "web"\ncommand = "npm start"\nworking-dir = "/elsewhere"'),
      },
    ]);
    const { err } = await run();
    expect(err).toEqual([
      `Warning: buildpack example/old@1.0.0: ${join(layers, "example_old", "launch.toml")}: processes[0].working-dir is ignored before Buildpack API 0.8`,
    ]);
    expect(await readFile(join(layers, "config", "metadata.toml"), "utf8")).toBe(
      '[[buildpacks]]\nid = "example/old"\nversion = "1.0.0"\napi = "0.7"\n\n[[processes]]\ntype = "web"\ncommand = [ "npm start" ]\ndirect = false\nbuildpack-id = "example/old"\n',
    );
  });

  it("loses the default when a later buildpack redefines the default type without default = true", async () => {
    await setup([
      { id: "example/a", build: launch('[[processes]]\ntype = "web"\ncommand = ["a"]\ndefault = true') },
      { id: "example/b", build: launch('[[processes]]\ntype = "web"\ncommand = ["b"]') },
    ]);
    const { err, result } = await run();
    expect(err).toEqual([
      "Warning: redefining the following default process type with a process not marked as default: web",
    ]);
    expect(result.metadata["buildpack-default-process-type"]).toBeUndefined();
    expect(result.metadata.processes).toEqual([
      { type: "web", command: ["b"], direct: true, "buildpack-id": "example/b" },
    ]);
  });

  it("lets a later default process take over the default type", async () => {
    await setup([
      { id: "example/a", build: launch('[[processes]]\ntype = "web"\ncommand = ["a"]\ndefault = true') },
      { id: "example/b", build: launch('[[processes]]\ntype = "worker"\ncommand = ["b"]\ndefault = true') },
    ]);
    const { err, result } = await run();
    expect(err).toEqual([]);
    expect(result.metadata["buildpack-default-process-type"]).toBe("worker");
  });

  it.each([
    [
      "0.9",
      '[[processes]]\ntype = "web"\ncommand = ["a"]\ndirect = true',
      "processes[0].direct is not allowed since Buildpack API 0.9 (processes are always direct)",
    ],
    [
      "0.10",
      '[[processes]]\ntype = "web"\ncommand = "npm start"',
      'processes[0].command must be an array of strings since Buildpack API 0.9, found a string "npm start"',
    ],
    [
      "0.8",
      '[[processes]]\ntype = "web"\ncommand = ["npm"]',
      "processes[0].command must be a string before Buildpack API 0.9, found an array",
    ],
    [
      "0.12",
      '[[processes]]\ntype = "web"\ncommand = ["a"]\ndefault = true\n[[processes]]\ntype = "worker"\ncommand = ["b"]\ndefault = true',
      "processes[1].default makes a second default process (processes[0] is one already; at most one per buildpack)",
    ],
  ])("refuses a Buildpack API %s launch.toml breaking its rules", async (api, toml, rule) => {
    await setup([{ id: "example/node", api, build: launch(toml) }]);
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: buildpack example/node@1.0.0: ${join(layers, "example_node", "launch.toml")}: ${rule}`,
    });
  });

  it("names the line of a launch.toml that is not TOML", async () => {
    await setup([{ id: "example/node", build: launch("[[processes]\ntype = ") }]);
    const { exitCode, message } = await failure(run());
    expect(exitCode).toBe(52);
    expect(message).toMatch(
      new RegExp(
        `^builder: buildpack example/node@1\\.0\\.0: ${join(layers, "example_node", "launch.toml")}:1:`,
      ),
    );
  });

  it("writes the legacy [[bom]] of launch.toml and build.toml to sbom.legacy.json", async () => {
    await setup([
      {
        id: "example/node",
        build: `${launch('[[bom]]\nname = "node"\n[bom.metadata]\nversion = "20.1.0"')}\nprintf '[[bom]]\\nname = "gcc"\\n' > "$1/build.toml"`,
      },
    ]);
    await run();
    expect(await tree(join(layers, "sbom"))).toEqual({
      "build/": "",
      "build/sbom.legacy.json": '[{"name":"gcc","buildpack":{"id":"example/node","version":"1.0.0"}}]',
      "launch/": "",
      "launch/sbom.legacy.json":
        '[{"name":"node","metadata":{"version":"20.1.0"},"buildpack":{"id":"example/node","version":"1.0.0"}}]',
    });
  });
});

describe("SBOM files", () => {
  const FORMATS = 'sbom-formats = ["application/vnd.cyclonedx+json", "application/spdx+json; version=2.3"]';
  const layerToml = (name: string, types: string) => `printf '[types]\\n${types}\\n' > "$1/${name}.toml"`;

  it("places launch, build, layer and cached layer SBOMs under <layers>/sbom, replacing the last build's", async () => {
    await setup([
      {
        id: "example/node",
        info: FORMATS,
        build: [
          'echo "{\\"l\\":1}" > "$1/launch.sbom.cdx.json"',
          'echo "{\\"b\\":1}" > "$1/build.sbom.spdx.json"',
          layerToml("runtime", "launch = true\\ncache = true"),
          'echo "{\\"runtime\\":1}" > "$1/runtime.sbom.cdx.json"',
          layerToml("tools", "build = true"),
          'echo "{\\"tools\\":1}" > "$1/tools.sbom.spdx.json"',
          'echo "{}" > "$1/nolayer.sbom.cdx.json"',
        ].join("\n"),
      },
    ]);
    await mkdir(join(layers, "sbom", "launch", "stale"), { recursive: true });
    const { err } = await run();
    expect(err).toEqual([
      `Warning: buildpack example/node@1.0.0: ${join(layers, "example_node", "nolayer.sbom.cdx.json")}: no layer nolayer (nolayer.toml): SBOM not used`,
    ]);
    expect(await tree(join(layers, "sbom"))).toEqual({
      "build/": "",
      "build/example_node/": "",
      "build/example_node/sbom.spdx.json": '{"b":1}\n',
      "build/example_node/tools/": "",
      "build/example_node/tools/sbom.spdx.json": '{"tools":1}\n',
      "cache/": "",
      "cache/example_node/": "",
      "cache/example_node/runtime/": "",
      "cache/example_node/runtime/sbom.cdx.json": '{"runtime":1}\n',
      "launch/": "",
      "launch/example_node/": "",
      "launch/example_node/runtime/": "",
      "launch/example_node/runtime/sbom.cdx.json": '{"runtime":1}\n',
      "launch/example_node/sbom.cdx.json": '{"l":1}\n',
    });
    expect((await stat(join(layers, "sbom", "launch", "example_node", "runtime", "sbom.cdx.json"))).uid).toBe(
      USER,
    );
  });

  it.each([
    [
      "launch.sbom.xml",
      'unknown SBOM format ".sbom.xml" (SBOM files end in .sbom.cdx.json, .sbom.spdx.json or .sbom.syft.json)',
    ],
    [
      "launch.sbom.syft.json",
      "SBOM media type application/vnd.syft+json is not declared in sbom-formats of BPTOML",
    ],
  ])("fails the build on %s", async (file, rule) => {
    await setup([{ id: "example/node", info: FORMATS, build: `echo "{}" > "$1/${file}"` }]);
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: buildpack example/node@1.0.0: ${join(layers, "example_node", file)}: ${rule.replace("BPTOML", join(bpDir("example/node"), "buildpack.toml"))}`,
    });
  });
});

describe("failures and exit codes", () => {
  it("exits 51 when bin/build fails, naming the buildpack and its exit code", async () => {
    await setup([{ id: "example/node", build: "exit 3" }]);
    expect(await failure(run())).toEqual({
      exitCode: 51,
      message: "builder: buildpack example/node@1.0.0: bin/build failed with exit code 3",
    });
  });

  it("exits 51 when there is no bin/build", async () => {
    await setup([{ id: "example/node" }]);
    expect(await failure(run())).toEqual({
      exitCode: 51,
      message: `builder: buildpack example/node@1.0.0: cannot run bin/build: ${join(bpDir("example/node"), "bin", "build")} does not exist`,
    });
  });

  it("exits 12 for a Buildpack API this lifecycle does not implement, before running anything", async () => {
    await setup([
      { id: "example/first", build: 'touch "$1/ran"' },
      { id: "example/node", api: "0.6", build: "true" },
    ]);
    expect(await failure(run())).toEqual({
      exitCode: 12,
      message: `builder: buildpack example/node@1.0.0 uses Buildpack API 0.6 (api in ${join(layers, "group.toml")}), which this lifecycle does not support (it supports 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)`,
    });
    await expect(stat(join(layers, "example_first"))).rejects.toThrow("ENOENT");
  });

  it("exits 12 when buildpack.toml asks for a Buildpack API group.toml did not", async () => {
    await setup([{ id: "example/node", build: "true" }]);
    const descriptor = join(bpDir("example/node"), "buildpack.toml");
    await writeFile(descriptor, (await readFile(descriptor, "utf8")).replace('api = "0.12"', 'api = "0.13"'));
    expect(await failure(run())).toEqual({
      exitCode: 12,
      message: `builder: buildpack example/node@1.0.0: ${descriptor}: Buildpack API 0.13 is not supported by this lifecycle (it supports 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)`,
    });
  });

  it("exits 52 for a group buildpack missing from the buildpacks dir", async () => {
    await setup([{ id: "example/node", build: "true" }]);
    await rm(join(buildpacks, "example_node"), { recursive: true });
    expect(await failure(run())).toEqual({
      exitCode: 52,
      message: `builder: cannot read buildpack example/node@1.0.0: ${join(bpDir("example/node"), "buildpack.toml")} does not exist`,
    });
  });

  it("refuses to run buildpacks as root", async () => {
    await setup([{ id: "example/node", build: "true" }]);
    expect(await failure(run({ CNB_USER_ID: "0", CNB_GROUP_ID: "0" }))).toEqual({
      exitCode: 1,
      message: "builder: refusing to run as root: give the build user with CNB_USER_ID and CNB_GROUP_ID",
    });
  });
});

describe("the builder phase", () => {
  it("takes its inputs from flags, rejects positional arguments and unknown flags", async () => {
    await setup([{ id: "example/node", build: 'touch "$1/ran"' }]);
    const { env } = inputs();
    const flagged = { ...env, CNB_LAYERS_DIR: join(root, "elsewhere") };
    await builder(
      [
        "-layers",
        layers,
        "-app",
        app,
        "-build-config",
        buildConfig,
        "-analyzed",
        join(layers, "analyzed.toml"),
      ],
      flagged,
    );
    expect((await stat(join(layers, "example_node", "ran"))).uid).toBe(USER);
    expect(await failure(builder(["-layers", layers, "extra"], env))).toEqual({
      exitCode: 3,
      message: "builder: expected no arguments, got extra",
    });
    expect(await failure(builder(["-daemon"], env))).toEqual({
      exitCode: 3,
      message: "builder: flag provided but not defined: -daemon",
    });
  });

  it("reports a missing group.toml", async () => {
    const { env } = inputs();
    expect(await failure(builder([], env))).toEqual({
      exitCode: 52,
      message: `builder: reading the group: ${join(layers, "group.toml")} does not exist`,
    });
  });
});
