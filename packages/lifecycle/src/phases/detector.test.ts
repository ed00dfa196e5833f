/**
 * The detector on real modules: shell-script detects in temp dirs, run as the build user (uid 1000 when the
 * tests run as root, as on CI), the exact group.toml and plan.toml written, the exact report and errors.
 */
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { captureLog, removeTempDirs, tempDir } from "../cache/test-support/fixtures.js";
import { detectScript, type ModuleSpec, orderToml, writeModule } from "../detect/test-support/modules.js";
import { type DetectOptions, detect, detector } from "./detector.js";

const USER = { uid: 1000, gid: 1000 };
const root = process.getuid?.() === 0;

let base: string;
let out: string;
const dir = (name: string) => join(base, name);
const roots = () => ({ buildpacks: dir("buildpacks"), extensions: dir("extensions") });

beforeEach(async () => {
  base = await tempDir("cnbp-detector-");
  await chmod(base, 0o755);
  for (const d of ["buildpacks", "extensions", "app", "platform", "build-config", "layers"])
    await mkdir(dir(d));
  out = dir("out");
  await mkdir(out);
  await chmod(out, 0o777);
  await writeFile(
    dir("analyzed.toml"),
    `[run-image]\nreference = "run"\n[run-image.target]\nos = "linux"\narch = "amd64"\n[run-image.target.distro]\nname = "ubuntu"\nversion = "22.04"\n`,
  );
});
afterAll(removeTempDirs);

/** Buildpacks that pass (or fail with `code`) and record their run, with an optional plan. */
const passing = (id: string, plan = "", more: Partial<ModuleSpec> = {}): ModuleSpec => ({
  id,
  detect: detectScript(out, id, 0, plan),
  ...more,
});
const failing = (id: string, code = 100): ModuleSpec => ({ id, detect: detectScript(out, id, code) });

async function setup(modules: readonly ModuleSpec[], order: string) {
  for (const m of modules) await writeModule(roots(), m);
  await writeFile(dir("order.toml"), order);
}

/** Options for a detection in the test's dirs; `lines` = what it logged at `level`, then its full report and errors. */
function options(more: Partial<DetectOptions> = {}, level = "debug"): DetectOptions & { lines: string[] } {
  const main = captureLog(level);
  const full = captureLog("debug");
  return {
    platformApi: "0.15",
    appDir: dir("app"),
    buildpacksDir: dir("buildpacks"),
    extensionsDir: dir("extensions"),
    platformDir: dir("platform"),
    buildConfigDir: dir("build-config"),
    orderPath: dir("order.toml"),
    systemPath: dir("system.toml"),
    analyzedPath: dir("analyzed.toml"),
    execEnv: "production",
    lifecycleEnv: { PATH: "/usr/bin:/bin", HOME: "/home/cnb", CNB_REGISTRY_AUTH: "{}", SECRET: "x" },
    user: USER,
    log: main.log,
    fullLog: full.log,
    ...more,
    get lines() {
      return [...main.out, ...full.out, ...main.err];
    },
  };
}

const ran = async () =>
  (await readFile(join(out, "ran"), "utf8").catch(() => "")).split("\n").filter(Boolean).sort();

describe("detector phase", () => {
  it("selects the first group that passes and writes group.toml and plan.toml", async () => {
    await setup(
      [
        failing("example/first"),
        passing("example/node", `[[provides]]\nname = "node"`, { info: 'homepage = "https://node.example"' }),
        passing("example/npm", `[[requires]]\nname = "node"\n[requires.metadata]\nversion = "20.x"`, {
          api: "0.10",
        }),
      ],
      orderToml([
        ["example/first", "example/node"],
        ["example/node", "example/npm"],
      ]),
    );
    const env = {
      CNB_PLATFORM_API: "0.15",
      CNB_LAYERS_DIR: dir("layers"),
      CNB_USER_ID: "1000",
      CNB_GROUP_ID: "1000",
    };
    await detector(
      [
        "-app",
        dir("app"),
        "-buildpacks",
        dir("buildpacks"),
        "-order",
        dir("order.toml"),
        "-log-level",
        "warn",
      ],
      env,
    );
    expect(await readFile(dir("layers/group.toml"), "utf8")).toBe(
      `[[group]]\nid = "example/node"\nversion = "1.0.0"\napi = "0.12"\nhomepage = "https://node.example"\n\n[[group]]\nid = "example/npm"\nversion = "1.0.0"\napi = "0.10"\n`,
    );
    expect(await readFile(dir("layers/plan.toml"), "utf8")).toBe(
      `[[entries]]\n[[entries.providers]]\nid = "example/node"\nversion = "1.0.0"\n\n[[entries.requires]]\nname = "node"\n\n[entries.requires.metadata]\nversion = "20.x"\n`,
    );
    // the build user reads and rewrites them later
    expect((await stat(dir("layers/group.toml"))).uid).toBe(root ? USER.uid : process.getuid?.());
    // example/node ran once for both groups
    expect(await ran()).toEqual(["example/first", "example/node", "example/npm"]);
  });

  it("runs the selected extensions' generate: Dockerfiles in <generated>, the run image switched, their plan entries gone", async () => {
    const generateScript = [
      "#!/bin/sh",
      'mkdir -p "$1/context"',
      'echo "from the extension" > "$1/context/note.txt"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${base_image}
      'printf "ARG base_image\\nFROM \\${base_image}\\nCOPY note.txt /note.txt\\n" > "$1/build.Dockerfile"',
      'printf "FROM 127.0.0.1:5000/other/run:1\\n" > "$1/run.Dockerfile"',
      "",
    ].join("\n");
    await setup(
      [
        {
          kind: "extension",
          id: "example/curl",
          detect: detectScript(out, "curl", 0, `[[provides]]\nname = "curl"`),
        },
        passing("example/app", `[[requires]]\nname = "curl"`),
      ],
      `${orderToml([["example/app"]])}\n${orderToml([["example/curl"]], "order-extensions")}`,
    );
    const generatePath = join(dir("extensions"), "example_curl", "1.0.0", "bin", "generate");
    await writeFile(generatePath, generateScript);
    await chmod(generatePath, 0o755);
    await detector(
      [
        "-app",
        dir("app"),
        "-buildpacks",
        dir("buildpacks"),
        "-extensions",
        dir("extensions"),
        "-order",
        dir("order.toml"),
        "-analyzed",
        dir("analyzed.toml"),
        "-run",
        dir("run.toml"),
        "-log-level",
        "error",
      ],
      { CNB_PLATFORM_API: "0.15", CNB_LAYERS_DIR: dir("layers"), CNB_USER_ID: "1000", CNB_GROUP_ID: "1000" },
    );
    expect(await readFile(dir("layers/group.toml"), "utf8")).toBe(
      `[[group]]\nid = "example/app"\nversion = "1.0.0"\napi = "0.12"\n\n[[group-extensions]]\nid = "example/curl"\nversion = "1.0.0"\napi = "0.12"\n`,
    );
    // curl was the extension's to provide: nothing is left for the buildpacks
    expect(await readFile(dir("layers/plan.toml"), "utf8")).toBe("\n");
    const generated = join(dir("layers"), "generated", "example_curl");
    expect(await readFile(join(generated, "build.Dockerfile"), "utf8")).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${base_image}
      "ARG base_image\nFROM ${base_image}\nCOPY note.txt /note.txt\n",
    );
    expect(await readFile(join(generated, "context", "note.txt"), "utf8")).toBe("from the extension\n");
    expect(await readFile(dir("analyzed.toml"), "utf8")).toBe(
      `[run-image]\nreference = "127.0.0.1:5000/other/run:1"\nimage = "127.0.0.1:5000/other/run:1"\n\n[build-image]\nreference = ""\nextend = true\n`,
    );
  });

  it("refuses positional arguments and flags of newer Platform APIs", async () => {
    const env = { CNB_PLATFORM_API: "0.14", CNB_USER_ID: "1000" };
    await expect(detector(["extra"], env)).rejects.toMatchObject({
      exitCode: 3,
      message: "detector: expected no arguments, got extra",
    });
    await expect(detector(["-system", "x"], env)).rejects.toMatchObject({
      exitCode: 3,
      message: "detector: flag provided but not defined: -system",
    });
  });

  it("refuses to run modules as root", async () => {
    const run = detector([], { CNB_PLATFORM_API: "0.15" });
    if (root) {
      await expect(run).rejects.toMatchObject({
        exitCode: 1,
        message:
          "detector: refusing to run as root: run as the build user, or set CNB_USER_ID and CNB_GROUP_ID",
      });
    } else {
      // not root: the default order does not exist here
      await expect(run).rejects.toMatchObject({ exitCode: 22 });
    }
  });
});

describe("order resolution", () => {
  it("expands a composite in place, depth-first: [E, O, F] tries EABF then ECDF", async () => {
    await setup(
      [
        {
          id: "o",
          toml: orderToml([
            ["a", "b"],
            ["c", "d"],
          ]),
        },
        failing("a"),
        ...["b", "c", "d", "e", "f"].map((id) => passing(id)),
      ],
      orderToml([["e", "o", "f"]]),
    );
    const o = options();
    const result = await detect(o);
    expect(result.group).toEqual({
      group: ["e", "c", "d", "f"].map((id) => ({ id, version: "1.0.0", api: "0.12" })),
    });
    expect(result.plan).toEqual({});
    expect(o.lines).toEqual([
      "======== Results ========",
      "pass: e@1.0.0",
      "fail: a@1.0.0",
      "pass: b@1.0.0",
      "pass: f@1.0.0",
      "======== Results ========",
      "pass: e@1.0.0",
      "pass: c@1.0.0",
      "pass: d@1.0.0",
      "pass: f@1.0.0",
      "Resolving plan... (try #1)",
      "e 1.0.0",
      "c 1.0.0",
      "d 1.0.0",
      "f 1.0.0",
    ]);
    // each detect ran once, though e, f were in both paths
    expect(await ran()).toEqual(["a", "b", "c", "d", "e", "f"]);
  });

  it("walks [O, P] as ABEF, ABGH, CDEF, CDGH", async () => {
    await setup(
      [
        {
          id: "o",
          toml: orderToml([
            ["a", "b"],
            ["c", "d"],
          ]),
        },
        {
          id: "p",
          toml: orderToml([
            ["e", "f"],
            ["g", "h"],
          ]),
        },
        failing("b"),
        failing("f"),
        ...["a", "c", "d", "e", "g", "h"].map((id) => passing(id)),
      ],
      orderToml([["o", "p"]]),
    );
    const o = options();
    expect((await detect(o)).group.group.map((m) => m.id)).toEqual(["c", "d", "g", "h"]);
    const paths = o.lines
      .join("\n")
      .split("======== Results ========\n")
      .slice(1)
      .map((block) => [...block.matchAll(/: (\w)@/g)].map((m) => m[1]).join(""));
    expect(paths).toEqual(["abef", "abgh", "cdef", "cdgh"]);
  });

  it("skips an element already on the path, and leaves out optional modules that fail", async () => {
    await setup(
      [{ id: "c", toml: orderToml([["a", "b", "x?"]]) }, passing("a"), passing("b"), failing("x")],
      orderToml([["a", "c"]]),
    );
    const o = options({}, "info");
    const result = await detect(o);
    expect(result.group.group.map((m) => m.id)).toEqual(["a", "b"]);
    expect(await ran()).toEqual(["a", "b", "x"]);
  });

  it("goes on without an optional composite none of whose groups passes", async () => {
    await setup(
      [{ id: "c", toml: orderToml([["x"]]) }, failing("x"), passing("a")],
      orderToml([["c?", "a"]]),
    );
    expect((await detect(options())).group.group.map((m) => m.id)).toEqual(["a"]);
  });

  it("merges system buildpacks into every group, skipping ids already there (Platform API 0.15)", async () => {
    await setup(
      ["pre", "a", "post"].map((id) => passing(id)),
      orderToml([["a", "post"]]),
    );
    await writeFile(
      dir("system.toml"),
      `[[system.pre.buildpacks]]\nid = "pre"\nversion = "1.0.0"\n[[system.post.buildpacks]]\nid = "post"\nversion = "1.0.0"\n`,
    );
    expect((await detect(options())).group.group.map((m) => m.id)).toEqual(["pre", "a", "post"]);
    expect((await detect(options({ platformApi: "0.14" }))).group.group.map((m) => m.id)).toEqual([
      "a",
      "post",
    ]);
  });
});

describe("extensions", () => {
  it("come first, only when they provide what a buildpack requires; without bin/detect they use detect/plan.toml", async () => {
    await setup(
      [
        { kind: "extension", id: "curl", api: "0.10" },
        { kind: "extension", id: "jq", detect: detectScript(out, "jq", 0, `[[provides]]\nname = "jq"`) },
        { kind: "extension", id: "bad", detect: detectScript(out, "bad", 0, `[[requires]]\nname = "x"`) },
        passing("a", `[[requires]]\nname = "curl"`),
      ],
      `${orderToml([["a"]])}\n${orderToml([["jq", "bad", "curl"]], "order-extensions")}`,
    );
    const curlDir = join(dir("extensions"), "curl", "1.0.0");
    await mkdir(join(curlDir, "detect"));
    await writeFile(join(curlDir, "detect", "plan.toml"), `[[provides]]\nname = "curl"\n`);
    const o = options();
    const result = await detect(o);
    expect(result.group).toEqual({
      group: [{ id: "a", version: "1.0.0", api: "0.12" }],
      "group-extensions": [{ id: "curl", version: "1.0.0", api: "0.10" }],
    });
    expect(result.plan).toEqual({
      entries: [
        { providers: [{ id: "curl", version: "1.0.0", extension: true }], requires: [{ name: "curl" }] },
      ],
    });
    expect(result.extensions.map((e) => e.module.dir)).toEqual([curlDir]);
    expect(o.lines).toEqual([
      "======== Error: bad@1.0.0 ========",
      "extension bad@1.0.0: build plan: requires is not allowed in an image extension's build plan",
      "======== Results ========",
      "pass: jq@1.0.0",
      "err:  bad@1.0.0",
      "pass: curl@1.0.0",
      "pass: a@1.0.0",
      "Resolving plan... (try #1)",
      "skip: jq@1.0.0 provides unused jq",
      "2 of 4 buildpacks participating",
      "curl 1.0.0",
      "a    1.0.0",
    ]);
  });
});

describe("targets and exec-env", () => {
  it("errors a required module with no target matching the run image (exit 21)", async () => {
    await setup(
      [passing("win", "", { toml: `[[targets]]\nos = "windows"\n` }), passing("any")],
      orderToml([["win", "any"]]),
    );
    const o = options();
    await expect(detect(o)).rejects.toMatchObject({
      exitCode: 21,
      message: "detector: failed to detect: buildpack(s) failed with err",
    });
    expect(o.lines).toEqual([
      "======== Error: win@1.0.0 ========",
      `buildpack win@1.0.0: no target in ${join(dir("buildpacks"), "win", "1.0.0", "buildpack.toml")} matches the run image (linux/amd64 (ubuntu 22.04)); it supports windows/*`,
      "======== Results ========",
      "err:  win@1.0.0",
      "pass: any@1.0.0",
      "ERROR: No buildpack groups passed detection.",
    ]);
    expect(await ran()).toEqual(["any"]);
  });

  it("matches distros, and fills a missing distro from os-release", async () => {
    await setup(
      [
        passing("deb", "", {
          toml: `[[targets]]\nos = "linux"\n[[targets.distros]]\nname = "debian"\nversion = "12"\n`,
        }),
      ],
      orderToml([["deb"]]),
    );
    await writeFile(
      dir("analyzed.toml"),
      `[run-image]\nreference = "run"\n[run-image.target]\nos = "linux"\n`,
    );
    await writeFile(
      dir("os-release"),
      `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n`,
    );
    expect(
      (await detect(options({ osReleasePath: dir("os-release") }))).group.group.map((m) => m.id),
    ).toEqual(["deb"]);
    await writeFile(dir("os-release"), `ID=ubuntu\nVERSION_ID="24.04"\n`);
    await expect(detect(options({ osReleasePath: dir("os-release") }))).rejects.toMatchObject({
      exitCode: 21,
    });
  });

  it("skips modules whose exec-env excludes CNB_EXEC_ENV (Platform API 0.15)", async () => {
    await setup(
      [
        passing("tests", "", { info: 'exec-env = ["test"]' }),
        passing("spec-syntax", "", { toml: `[[buildpack.exec-env]]\nname = "test"\n` }),
        passing("everywhere", "", { info: 'exec-env = ["*"]' }),
        passing("a"),
      ],
      `${orderToml([["tests"], ["spec-syntax"], ["tests", "spec-syntax", "everywhere", "a"]])}`,
    );
    const o = options();
    expect((await detect(o)).group.group.map((m) => m.id)).toEqual(["everywhere", "a"]);
    expect(await ran()).toEqual(["a", "everywhere"]);
    expect((await detect(options({ execEnv: "test" }))).group.group.map((m) => m.id)).toEqual(["tests"]);
  });
});

describe("exit codes", () => {
  it("20 when no group passes and nothing errored", async () => {
    await setup([failing("a"), passing("b", `[[requires]]\nname = "x"`)], orderToml([["a"], ["b"]]));
    const o = options();
    await expect(detect(o)).rejects.toMatchObject({
      exitCode: 20,
      message: "detector: failed to detect: no buildpacks participating",
    });
    expect(o.lines).toEqual([
      "======== Results ========",
      "fail: a@1.0.0",
      "======== Results ========",
      "pass: b@1.0.0",
      "Resolving plan... (try #1)",
      "fail: b@1.0.0 requires x",
      "ERROR: No buildpack groups passed detection.",
      "ERROR: Please check that you are running against the correct path.",
    ]);
  });

  it("21 when a module errored, with its output and exit code in the report", async () => {
    await setup(
      [
        { id: "a", detect: `echo "cannot read app" >&2\nexit 3\n` },
        passing("v", `[[requires]]\nname = "x"\nversion = "1"`),
      ],
      orderToml([["a"], ["v"]]),
    );
    const o = options({}, "info");
    await expect(detect(o)).rejects.toMatchObject({ exitCode: 21 });
    expect(o.lines).toEqual([
      "======== Output: a@1.0.0 ========",
      "cannot read app",
      "======== Results ========",
      "err:  a@1.0.0 (3)",
      "======== Error: v@1.0.0 ========",
      `buildpack v@1.0.0: build plan: requires[0].version "1" is not supported: use metadata.version instead`,
      "======== Results ========",
      "err:  v@1.0.0",
      "ERROR: No buildpack groups passed detection.",
    ]);
  });

  it("22 for a module that cannot be found", async () => {
    await setup([passing("a")], orderToml([["a"], ["missing"]]));
    await expect(detect(options())).rejects.toMatchObject({
      exitCode: 22,
      message: `detector: cannot read buildpack missing@1.0.0: ${join(dir("buildpacks"), "missing", "1.0.0", "buildpack.toml")} does not exist`,
    });
    expect(await ran()).toEqual([]);
  });

  it("12 for a module whose Buildpack API this lifecycle does not implement", async () => {
    await setup([passing("a"), passing("old", "", { api: "0.6" })], orderToml([["a"], ["old"]]));
    await expect(detect(options())).rejects.toMatchObject({
      exitCode: 12,
      message: `detector: buildpack old@1.0.0 uses Buildpack API 0.6 (api in ${join(dir("buildpacks"), "old", "1.0.0", "buildpack.toml")}), which this lifecycle does not support (it supports 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)`,
    });
  });

  it("22 for a composite buildpack that includes itself", async () => {
    await setup(
      [
        { id: "loop", toml: orderToml([["other"]]) },
        { id: "other", toml: orderToml([["loop"]]) },
      ],
      orderToml([["loop"]]),
    );
    await expect(detect(options())).rejects.toMatchObject({
      exitCode: 22,
      message: "detector: composite buildpack loop@1.0.0 -> other@1.0.0 -> loop@1.0.0 includes itself",
    });
  });
});

describe("what bin/detect sees", () => {
  const DUMP = `tr '\\0' '\\n' < /proc/$$/environ | sort > "$OUT/env-$ID"\nprintf '%s\\n' "$@" > "$OUT/args-$ID"\necho "$(id -u):$(id -g) $(pwd)" > "$OUT/ids-$ID"\n`;
  const dump = (id: string, more: Partial<ModuleSpec> = {}): ModuleSpec => ({
    id,
    detect: `OUT="${out}"\nID="${id}"\n${DUMP}`,
    ...more,
  });
  const seen = async (id: string) => ({
    env: (await readFile(join(out, `env-${id}`), "utf8")).split("\n").filter(Boolean),
    args: (await readFile(join(out, `args-${id}`), "utf8")).split("\n").filter(Boolean),
    ids: (await readFile(join(out, `ids-${id}`), "utf8")).trim(),
  });

  it("gets argv, cwd, user and exactly the environment of its Buildpack API", async () => {
    await setup(
      [dump("new"), dump("old", { api: "0.7" }), dump("clear", { info: "clear-env = true" })],
      orderToml([["new", "old", "clear"]]),
    );
    await mkdir(dir("platform/env"));
    await writeFile(dir("platform/env/PATH"), "/platform/bin");
    await writeFile(dir("platform/env/FROM_USER"), "user value");
    await mkdir(dir("build-config/env"));
    await writeFile(dir("build-config/env/FROM_OPERATOR"), "operator default");
    await writeFile(dir("build-config/env/FROM_USER"), "operator default for FROM_USER");
    await detect(options());

    const ids = root ? "1000:1000" : `${process.getuid?.()}:${process.getgid?.()}`;
    const bpDir = (id: string) => join(dir("buildpacks"), id, "1.0.0");
    const newSeen = await seen("new");
    const planPath = newSeen.args[1] as string;
    expect(newSeen.args).toEqual([dir("platform"), planPath]);
    expect(planPath).toMatch(/\/plan\.[^/]+\/\d+\.toml$/);
    expect(newSeen.ids).toBe(`${ids} ${dir("app")}`);
    expect(newSeen.env).toEqual([
      `CNB_BUILDPACK_DIR=${bpDir("new")}`,
      `CNB_BUILD_PLAN_PATH=${planPath}`,
      "CNB_EXEC_ENV=production",
      `CNB_PLATFORM_DIR=${dir("platform")}`,
      "CNB_TARGET_ARCH=amd64",
      "CNB_TARGET_DISTRO_NAME=ubuntu",
      "CNB_TARGET_DISTRO_VERSION=22.04",
      "CNB_TARGET_OS=linux",
      "FROM_OPERATOR=operator default",
      "FROM_USER=user value",
      "HOME=/home/cnb",
      "PATH=/platform/bin:/usr/bin:/bin",
    ]);

    const oldSeen = await seen("old");
    expect(oldSeen.args).toEqual([dir("platform"), expect.stringMatching(/\.toml$/)]);
    expect(oldSeen.env).toEqual([
      `CNB_BUILDPACK_DIR=${bpDir("old")}`,
      "FROM_OPERATOR=operator default",
      "FROM_USER=user value",
      "HOME=/home/cnb",
      "PATH=/platform/bin:/usr/bin:/bin",
    ]);

    const clearSeen = await seen("clear");
    expect(clearSeen.env.filter((l) => !l.startsWith("CNB_"))).toEqual([
      "FROM_OPERATOR=operator default",
      "FROM_USER=operator default for FROM_USER",
      "HOME=/home/cnb",
      "PATH=/usr/bin:/bin",
    ]);
    // each module got its own plan file
    expect(new Set([planPath, oldSeen.args[1], clearSeen.args[1]]).size).toBe(3);
  });
});
