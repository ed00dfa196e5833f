// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfiles spell ${base_image} literally
/**
 * Generate on real files: extensions are `#!/bin/sh` scripts in temp dirs, run as uid 1000 when the tests
 * run as root (CI); the exact <generated> tree, analyzed.toml and plan.toml they leave, what bin/generate
 * sees, and each rule an extension's output can break, with its message and exit code.
 */
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type AnalyzedMetadata, analyzedToml, type PlanFile, parseSpec } from "@cnbp/core";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { captureLog, removeTempDirs, tempDir, tree } from "../cache/test-support/fixtures.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { type Module, ModuleStore } from "../modules/store.js";
import { type GenerateInput, generate } from "./index.js";

const asRoot = process.getuid?.() === 0;
const USER = asRoot
  ? { uid: 1000, gid: 1000 }
  : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const RUN = "registry.example/run:jammy";
const TOOLS = "registry.example/run-tools:jammy";
const sha = (c: string) => `sha256:${c.repeat(64)}`;

let base: string;
let generated: string;

beforeEach(async () => {
  base = await tempDir("cnbp-generate-");
  await chmod(base, 0o755); // the build user must reach the extensions and <app>
  generated = join(base, "layers", "generated");
  for (const dir of ["app", "platform/env", "build-config/env", "layers"]) {
    await mkdir(join(base, dir), { recursive: true });
  }
});
afterAll(removeTempDirs);

/** An extension on disk: extension.toml, `bin/generate` when a script is given, and any other files. */
async function extension(
  id: string,
  script: string | undefined,
  options: { api?: string; clearEnv?: boolean; files?: Record<string, string> } = {},
): Promise<Module> {
  const dir = join(base, "extensions", id.replaceAll("/", "_"), "0.1.0");
  await mkdir(join(dir, "bin"), { recursive: true });
  await writeFile(
    join(dir, "extension.toml"),
    `api = "${options.api ?? "0.10"}"\n[extension]\nid = "${id}"\nversion = "0.1.0"\n${options.clearEnv ? "clear-env = true\n" : ""}`,
  );
  if (script !== undefined) {
    await writeFile(join(dir, "bin", "generate"), `#!/bin/sh\nset -e\n${script}`);
    await chmod(join(dir, "bin", "generate"), 0o755);
  }
  for (const [path, content] of Object.entries(options.files ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return new ModuleStore({ buildpacks: join(base, "buildpacks"), extensions: join(base, "extensions") }).get(
    "extension",
    id,
    "0.1.0",
  );
}

/** A script line writing `content` to `$1/<name>` (a heredoc keeps it byte for byte). */
const writes = (name: string, content: string) =>
  `mkdir -p "$(dirname "$1/${name}")"\ncat > "$1/${name}" <<'END'\n${content}END\n`;

const BUILD_DOCKERFILE =
  "ARG base_image\nFROM ${base_image}\nARG build_id=0\nUSER root\nRUN apt-get install -y libpq-dev\n";
const EXTEND_RUN = "ARG base_image\nFROM ${base_image}\nRUN apt-get install -y tar\n";
const SWITCH_RUN = `FROM ${TOOLS}\n`;
const EXTEND_CONFIG = '[[build.args]]\nname = "PG_MAJOR"\nvalue = "16"\n';

const ANALYZED: AnalyzedMetadata = {
  image: { reference: "" },
  "run-image": {
    reference: `registry.example/run@${sha("2")}`,
    image: RUN,
    target: { os: "linux", arch: "amd64", distro: { name: "ubuntu", version: "22.04" } },
  },
};

/** The detector's plan: the extensions provide `libpq` and `tar`, the buildpack `node`. */
const PLAN: PlanFile = {
  entries: [
    {
      providers: [{ id: "example/apt", version: "0.1.0", extension: true }],
      requires: [{ name: "libpq", metadata: { version: "16" } }, { name: "libpq" }],
    },
    {
      providers: [{ id: "example/node", version: "1.0.0" }],
      requires: [{ name: "node", metadata: { launch: true } }],
    },
    {
      providers: [{ id: "example/switch", version: "0.1.0", extension: true }],
      requires: [{ name: "tar" }],
    },
  ],
};

function input(extensions: Module[], platformApi = "0.13", more: Partial<GenerateInput> = {}) {
  const { log, out, err } = captureLog();
  const generateInput: GenerateInput = {
    extensions,
    plan: PLAN,
    platformApi,
    paths: {
      appDir: join(base, "app"),
      platformDir: join(base, "platform"),
      buildConfigDir: join(base, "build-config"),
      generatedDir: generated,
      analyzedPath: join(base, "layers", "analyzed.toml"),
      planPath: join(base, "layers", "plan.toml"),
    },
    user: USER,
    analyzed: ANALYZED,
    runToml: { images: [{ image: RUN, mirrors: ["mirror.example/run:jammy"] }] },
    target: { os: "linux", arch: "amd64", distro: { name: "ubuntu", version: "22.04" } },
    execEnv: "production",
    env: { PATH: "/usr/bin:/bin", HOME: "/home/cnb", CNB_REGISTRY_AUTH: "{secret}", USER_VAR: "dropped" },
    log,
    ...more,
  };
  return { input: generateInput, out, err };
}

const layersFile = (name: string) => readFile(join(base, "layers", name), "utf8");

describe("generate, Platform API 0.13+", () => {
  it("keeps each extension's output in <generated>/<id>/, ignores run.Dockerfiles before a switch, rewrites analyzed.toml and plan.toml", async () => {
    const apt = await extension(
      "example/apt",
      writes("build.Dockerfile", BUILD_DOCKERFILE) +
        writes("run.Dockerfile", EXTEND_RUN) +
        writes("extend-config.toml", EXTEND_CONFIG) +
        writes("context.run/tar.deb", "deb\n"),
    );
    const sw = await extension("example/switch", writes("run.Dockerfile", SWITCH_RUN));
    const { input: req, out, err } = input([apt, sw]);
    const result = await generate(req);

    expect(await tree(generated)).toEqual({
      "example_apt/": "",
      "example_apt/build.Dockerfile": BUILD_DOCKERFILE,
      "example_apt/context.run/": "",
      "example_apt/context.run/tar.deb": "deb\n",
      "example_apt/extend-config.toml": EXTEND_CONFIG,
      "example_apt/run.Dockerfile.ignore": EXTEND_RUN,
      "example_switch/": "",
      "example_switch/run.Dockerfile": SWITCH_RUN,
    });
    // switched, not extended: the earlier extension's run.Dockerfile applies to an image thrown away
    expect(await layersFile("analyzed.toml")).toBe(
      `[image]\nreference = ""\n\n[run-image]\nreference = "${TOOLS}"\nimage = "${TOOLS}"\n\n[build-image]\nreference = ""\nextend = true\n`,
    );
    expect(await layersFile("plan.toml")).toBe(
      [
        "[[entries]]",
        "[[entries.providers]]",
        'id = "example/node"',
        'version = "1.0.0"',
        "",
        "[[entries.requires]]",
        'name = "node"',
        "",
        "[entries.requires.metadata]",
        "launch = true",
        "",
      ].join("\n"),
    );
    expect(result.plan.entries?.map((e) => e.requires[0]?.name)).toEqual(["node"]);
    expect(err).toEqual([
      `Warning: extensions switched the run image to ${TOOLS}, which run.toml does not list`,
    ]);
    expect(out).toEqual([]);
    if (asRoot) expect((await stat(join(generated, "example_apt"))).uid).toBe(1000);
  });

  it("gives bin/generate exactly its argv, env, cwd and plan, as the build user", async () => {
    await writeFile(join(base, "platform", "env", "FROM_PLATFORM"), "platform value");
    await writeFile(join(base, "platform", "env", "PATH"), "/platform/bin");
    await writeFile(join(base, "build-config", "env", "FROM_OPERATOR"), "operator default");
    await writeFile(join(base, "build-config", "env", "HOME.override"), "/home/operator");
    const dump = [
      'printf "%s\\n" "$@" > "$CNB_OUTPUT_DIR/argv"',
      // the shell adds PWD (and may add SHLVL, _): those are not the lifecycle's
      'env | grep -v -e "^PWD=" -e "^SHLVL=" -e "^_=" | sort > "$CNB_OUTPUT_DIR/env"',
      'echo "$(id -u):$(id -g) $(pwd)" > "$CNB_OUTPUT_DIR/who"',
      'cat "$3" > "$CNB_OUTPUT_DIR/plan"',
      "",
    ].join("\n");
    const apt = await extension("example/apt", dump, { api: "0.12" });
    const { input: req } = input([apt], "0.15");
    await generate(req);

    const out = join(generated, "example_apt");
    const files = await tree(out);
    const planPath = files.argv?.split("\n")[2] ?? "";
    expect(planPath).toMatch(/\/cnbp-generate-[^/]+\/plans\/example_apt\/plan\.toml$/);
    expect(files.argv).toBe(`${out}\n${join(base, "platform")}\n${planPath}\n`);
    expect(files.env).toBe(
      [
        `CNB_BP_PLAN_PATH=${planPath}`,
        "CNB_EXEC_ENV=production",
        `CNB_EXTENSION_DIR=${apt.dir}`,
        `CNB_OUTPUT_DIR=${out}`,
        `CNB_PLATFORM_DIR=${join(base, "platform")}`,
        "CNB_TARGET_ARCH=amd64",
        "CNB_TARGET_DISTRO_NAME=ubuntu",
        "CNB_TARGET_DISTRO_VERSION=22.04",
        "CNB_TARGET_OS=linux",
        "FROM_OPERATOR=operator default",
        "FROM_PLATFORM=platform value",
        "HOME=/home/operator",
        "PATH=/platform/bin:/usr/bin:/bin",
        "",
      ].join("\n"),
    );
    expect(files.who).toBe(`${USER.uid}:${USER.gid} ${join(base, "app")}\n`);
    expect(files.plan).toBe(
      '[[entries]]\nname = "libpq"\n\n[entries.metadata]\nversion = "16"\n\n[[entries]]\nname = "libpq"\n',
    );
  });

  it("leaves the platform's env out for a clear-env extension, but not the operator's", async () => {
    await writeFile(join(base, "platform", "env", "FROM_PLATFORM"), "platform value");
    await writeFile(join(base, "build-config", "env", "FROM_OPERATOR"), "operator default");
    const script = 'echo "[$FROM_PLATFORM] [$FROM_OPERATOR] [${CNB_EXEC_ENV-unset}]" > "$1/seen"\n';
    const apt = await extension("example/apt", script, { clearEnv: true });
    await generate(input([apt]).input);
    expect(await readFile(join(generated, "example_apt", "seen"), "utf8")).toBe(
      "[] [operator default] [unset]\n",
    );
  });

  it("copies a pre-populated generate/ dir into <generated>/<id>/ when there is no bin/generate", async () => {
    const apt = await extension("example/apt", undefined, {
      files: {
        "generate/build.Dockerfile": BUILD_DOCKERFILE,
        "generate/context/file.txt": "shared context\n",
      },
    });
    await generate(input([apt]).input);
    expect(await tree(generated)).toEqual({
      "example_apt/": "",
      "example_apt/build.Dockerfile": BUILD_DOCKERFILE,
      "example_apt/context/": "",
      "example_apt/context/file.txt": "shared context\n",
    });
  });
});

describe("generate, Platform API < 0.13", () => {
  it("copies Dockerfiles and extend-config.toml to <generated>/<kind>/<id>/", async () => {
    const apt = await extension(
      "example/apt",
      writes("build.Dockerfile", BUILD_DOCKERFILE) +
        writes("run.Dockerfile", EXTEND_RUN) +
        writes("extend-config.toml", EXTEND_CONFIG),
    );
    const sw = await extension("example/switch", writes("run.Dockerfile", SWITCH_RUN));
    const tools = await extension("example/tools", undefined, {
      files: { "generate/build.Dockerfile": BUILD_DOCKERFILE },
    });
    await generate(input([apt, sw, tools], "0.12").input);
    expect(await tree(generated)).toEqual({
      "build/": "",
      "build/example_apt/": "",
      "build/example_apt/Dockerfile": BUILD_DOCKERFILE,
      "build/example_apt/extend-config.toml": EXTEND_CONFIG,
      "build/example_tools/": "",
      "build/example_tools/Dockerfile": BUILD_DOCKERFILE,
      "run/": "",
      "run/example_apt/": "",
      "run/example_apt/Dockerfile.ignore": EXTEND_RUN,
      "run/example_apt/extend-config.toml": EXTEND_CONFIG,
      "run/example_switch/": "",
      "run/example_switch/Dockerfile": SWITCH_RUN,
    });
  });
  it("warns that context dirs are not used, since the build context is <app>", async () => {
    const apt = await extension(
      "example/apt",
      writes("build.Dockerfile", BUILD_DOCKERFILE) +
        writes("context.build/a", "a\n") +
        writes("context.run/b", "b\n"),
    );
    const { input: req, err } = input([apt], "0.12");
    await generate(req);
    expect(err).toEqual([
      "Warning: extension example/apt@0.1.0: context.build/, context.run/ ignored: Platform API 0.12 builds with <app> as the context",
    ]);
    expect(await tree(generated)).toEqual({
      "build/": "",
      "build/example_apt/": "",
      "build/example_apt/Dockerfile": BUILD_DOCKERFILE,
    });
  });
});

describe("run image selection", () => {
  const runImage = async () =>
    parseSpec(analyzedToml, await layersFile("analyzed.toml"), "analyzed.toml").value?.["run-image"];

  it("keeps the run image and its target, and marks it extended, when a run.Dockerfile only extends", async () => {
    const apt = await extension("example/apt", writes("run.Dockerfile", EXTEND_RUN));
    const { input: req, err } = input([apt]);
    await generate(req);
    expect(await runImage()).toEqual({ ...ANALYZED["run-image"], extend: true });
    expect(err).toEqual([]);
  });

  it("switches and extends when a later extension extends the switched image", async () => {
    const sw = await extension("example/switch", writes("run.Dockerfile", SWITCH_RUN));
    const apt = await extension("example/apt", writes("run.Dockerfile", EXTEND_RUN));
    await generate(
      input([sw, apt], "0.13", { runToml: { images: [{ image: RUN, mirrors: [TOOLS] }] } }).input,
    );
    expect(await runImage()).toEqual({ reference: TOOLS, image: TOOLS, extend: true });
    expect(await tree(generated)).toMatchObject({
      "example_switch/run.Dockerfile": SWITCH_RUN,
      "example_apt/run.Dockerfile": EXTEND_RUN,
    });
  });

  it("keeps analyzed.toml's run image when the switch names the image already chosen", async () => {
    const sw = await extension("example/switch", writes("run.Dockerfile", `FROM ${RUN}\n`));
    await generate(input([sw]).input);
    expect(await runImage()).toEqual(ANALYZED["run-image"]);
  });
});

describe("generate errors", () => {
  /** The LifecycleError generate rejects with, when one extension writes `files`. */
  async function failure(files: Record<string, string>, script = "") {
    const apt = await extension(
      "example/apt",
      Object.entries(files)
        .map(([name, content]) => writes(name, content))
        .join("") + script,
    );
    const { input: req, err } = input([apt]);
    const error = await generate(req).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LifecycleError);
    const { exitCode, message } = error as LifecycleError;
    return { exitCode, message, warnings: err };
  }
  const out = () => join(generated, "example_apt");
  const rule = (file: string, message: string) => ({
    exitCode: ExitCode.generate,
    message: `extension example/apt@0.1.0: ${join(out(), file)}: ${message}`,
    warnings: [],
  });

  it("fails with 91 when bin/generate exits non-zero or cannot run", async () => {
    expect(await failure({}, "exit 3\n")).toEqual({
      exitCode: ExitCode.generateFailed,
      message: `extension example/apt@0.1.0: ${join(base, "extensions/example_apt/0.1.0/bin/generate")} exited with code 3`,
      warnings: [],
    });
    await chmod(join(base, "extensions/example_apt/0.1.0/bin/generate"), 0o644);
    const apt = await extension("example/apt", undefined);
    await expect(generate(input([apt]).input)).rejects.toMatchObject({
      exitCode: ExitCode.generateFailed,
      message: `extension example/apt@0.1.0: ${join(base, "extensions/example_apt/0.1.0/bin/generate")} is not executable`,
    });
    // a directory passes the access check but cannot be started
    const bin = join(base, "extensions/example_apt/0.1.0/bin/generate");
    await rm(bin);
    await mkdir(bin);
    await expect(generate(input([apt]).input)).rejects.toMatchObject({
      exitCode: ExitCode.generateFailed,
      message: `extension example/apt@0.1.0: cannot run ${bin}: spawn ${bin} EACCES`,
    });
  });

  it("refuses a build.Dockerfile that does not start with exactly ARG base_image", async () => {
    expect(await failure({ "build.Dockerfile": "FROM ${base_image}\n" })).toEqual(
      rule(
        "build.Dockerfile",
        "exactly one ARG must come before FROM, and it must be base_image (found: none)",
      ),
    );
    expect(await failure({ "build.Dockerfile": "ARG base_image\nARG other\nFROM ${base_image}\n" })).toEqual(
      rule(
        "build.Dockerfile",
        "exactly one ARG must come before FROM, and it must be base_image (found: base_image on line 1, other on line 2)",
      ),
    );
    expect(await failure({ "build.Dockerfile": "ARG image\nFROM ${image}\n" })).toEqual(
      rule(
        "build.Dockerfile",
        "exactly one ARG must come before FROM, and it must be base_image (found: image on line 1)",
      ),
    );
  });

  it("refuses a build.Dockerfile that switches the build image", async () => {
    expect(await failure({ "build.Dockerfile": "ARG base_image\nFROM ubuntu:jammy\n" })).toEqual(
      rule(
        "build.Dockerfile",
        "line 2: the build image can only be extended: FROM must be FROM ${base_image}, found FROM ubuntu:jammy",
      ),
    );
  });

  it("refuses Dockerfiles with no stage or several", async () => {
    expect(await failure({ "run.Dockerfile": "ARG base_image\n" })).toEqual(
      rule("run.Dockerfile", "has no FROM: exactly one stage is required"),
    );
    expect(
      await failure({
        "run.Dockerfile": `FROM ${TOOLS} AS tools\nFROM \${base_image}\nCOPY --from=tools /x /x\n`,
      }),
    ).toEqual(
      rule("run.Dockerfile", "has 2 FROM instructions (lines 1, 2): multi-stage builds are not permitted"),
    );
    expect(await failure({ "build.Dockerfile": "RUN true\nARG base_image\nFROM ${base_image}\n" })).toEqual(
      rule("build.Dockerfile", "line 1: RUN before FROM (only ARG may come first)"),
    );
  });

  it("refuses a run.Dockerfile FROM that is neither ${base_image} nor an image reference", async () => {
    expect(await failure({ "run.Dockerfile": "ARG base_image\nFROM $base_image\n" })).toEqual(
      rule(
        "run.Dockerfile",
        'line 2: FROM must be FROM ${base_image} (extend the run image) or FROM <image reference> (switch to that image): "$base_image" is not a valid image reference: repository name component "$base_image" may only have lowercase letters, digits and separators (., _, __, -)',
      ),
    );
  });

  it("refuses what the Dockerfile reader cannot read", async () => {
    expect(await failure({ "build.Dockerfile": "ARG base_image\nFROM ${base_image}\nFETCH x\n" })).toEqual(
      rule("build.Dockerfile", "line 3: unknown instruction FETCH"),
    );
    expect(
      await failure({ "run.Dockerfile": "FROM ${base_image}\nRUN <<EOF\napt-get update\nEOF\n" }),
    ).toEqual(
      rule(
        "run.Dockerfile",
        "line 2: RUN uses a heredoc (<<EOF), which cnbp's lifecycle does not support: put the commands on the RUN line",
      ),
    );
  });

  it("refuses reserved args in extend-config.toml", async () => {
    expect(await failure({ "extend-config.toml": '[[run.args]]\nname = "user_id"\nvalue = "0"\n' })).toEqual(
      rule(
        "extend-config.toml",
        'run.args[0].name "user_id" is reserved (the lifecycle sets build_id, user_id and group_id)',
      ),
    );
  });

  it("refuses context/ together with a kind-specific context", async () => {
    const error = await failure({ "context/a": "a\n", "context.build/b": "b\n", "context.run/c": "c\n" });
    expect(error).toEqual({
      exitCode: ExitCode.generate,
      message: `extension example/apt@0.1.0: ${out()}: context/ (shared by both images) cannot be combined with context.build/ and context.run/`,
      warnings: [],
    });
  });

  it("only warns about instructions outside the recommended set", async () => {
    const apt = await extension("example/apt", writes("run.Dockerfile", 'FROM ${base_image}\nCMD ["sh"]\n'));
    const { input: req, err } = input([apt]);
    await generate(req);
    expect(err).toEqual([
      `Warning: extension example/apt@0.1.0: ${join(generated, "example_apt", "run.Dockerfile")}: line 2: CMD is not recommended in an extension's Dockerfile (use FROM, ADD, ARG, COPY, ENV, LABEL, RUN, SHELL, USER, WORKDIR)`,
    ]);
  });
});
