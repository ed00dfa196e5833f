// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfiles spell ${base_image} literally
/**
 * readGenerated on real `<generated>` trees in temp dirs, both layouts: the exact plan (paths, contexts,
 * args, switch), and each rule with its exact message and hint.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { tempDir } from "../image/layout/test-support/helpers.js";
import type { GroupFile } from "../spec/kinds/group-toml.js";
import { type GeneratedPlan, readGenerated } from "./generated.js";
import { RESET_USER_HINT } from "./rules.js";

const BUILD =
  "ARG base_image\nFROM ${base_image}\nARG build_id=0\nUSER root\nRUN apt-get install -y curl\nARG user_id\nARG group_id\nUSER ${user_id}:${group_id}\n";
const EXTEND_RUN =
  "ARG base_image\nFROM ${base_image}\nCOPY tool /usr/bin/tool\nLABEL io.buildpacks.rebasable=true\n";
const SWITCH = "FROM localhost:5000/run-with-tools:1\n";
const CONFIG =
  '[[build.args]]\nname = "PG_MAJOR"\nvalue = "16"\n[[run.args]]\nname = "A"\nvalue = "1"\n[[run.args]]\nname = "B"\nvalue = "2"\n';

function group(...ids: string[]): GroupFile {
  return {
    group: [{ id: "example/node", version: "1.0.0", api: "0.10" }],
    "group-extensions": ids.map((id) => ({ id, version: "0.1.0", api: "0.10" })),
  };
}

/** A `<generated>` dir with `files` (path -> content; a path ending in `/` is an empty dir) and an app dir. */
async function fixture(files: Record<string, string>) {
  const root = await tempDir("cnbp-generated-");
  const generatedDir = join(root, "generated");
  const appDir = join(root, "workspace");
  await mkdir(appDir, { recursive: true });
  await mkdir(generatedDir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith("/")) {
      await mkdir(join(generatedDir, path), { recursive: true });
      continue;
    }
    await mkdir(dirname(join(generatedDir, path)), { recursive: true });
    await writeFile(join(generatedDir, path), content);
  }
  return { generatedDir, appDir };
}

async function read(files: Record<string, string>, ids: string[], platformApi = "0.13") {
  const { generatedDir, appDir } = await fixture(files);
  const warnings: string[] = [];
  const plan = await readGenerated({
    generatedDir,
    appDir,
    platformApi,
    group: group(...ids),
    warn: (m) => warnings.push(m),
  });
  return { plan, warnings, generatedDir, appDir };
}

async function refusal(files: Record<string, string>, ids = ["example/apt"], platformApi = "0.13") {
  const { generatedDir, appDir } = await fixture(files);
  const error = await readGenerated({ generatedDir, appDir, platformApi, group: group(...ids) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CnbpError);
  const { code, message, hints } = error as CnbpError;
  return { code, message, hints };
}

describe("readGenerated, Platform >= 0.13", () => {
  it("reads each extension's Dockerfiles in group order with their args and contexts, leaving .ignore files out", async () => {
    const {
      plan,
      warnings,
      generatedDir: g,
      appDir,
    } = await read(
      {
        "example_apt/build.Dockerfile": BUILD,
        "example_apt/run.Dockerfile.ignore": EXTEND_RUN,
        "example_apt/extend-config.toml": CONFIG,
        "example_apt/context.build/Aptfile": "curl\n",
        "example_switch/run.Dockerfile": `${SWITCH}ARG user_id\nRUN true\nUSER \${user_id}\n`,
        "example_switch/context/tool": "#!/bin/sh\n",
        "example_tools/run.Dockerfile": EXTEND_RUN,
        "example_tools/build.Dockerfile": BUILD,
        "example_tools/extend-config.toml": CONFIG,
        "example_unlisted/build.Dockerfile": "not read: not in the group\n",
      },
      ["example/apt", "example/switch", "example/tools"],
    );
    expect(plan).toEqual({
      build: [
        {
          extensionId: "example/apt",
          kind: "build",
          dockerfile: join(g, "example_apt/build.Dockerfile"),
          context: join(g, "example_apt/context.build"),
          args: [{ name: "PG_MAJOR", value: "16" }],
          extend: true,
        },
        {
          extensionId: "example/tools",
          kind: "build",
          dockerfile: join(g, "example_tools/build.Dockerfile"),
          context: appDir,
          args: [{ name: "PG_MAJOR", value: "16" }],
          extend: true,
        },
      ],
      run: [
        {
          extensionId: "example/switch",
          kind: "run",
          dockerfile: join(g, "example_switch/run.Dockerfile"),
          context: join(g, "example_switch/context"),
          args: [],
          switchTo: "localhost:5000/run-with-tools:1",
          extend: true,
        },
        {
          extensionId: "example/tools",
          kind: "run",
          dockerfile: join(g, "example_tools/run.Dockerfile"),
          context: appDir,
          args: [
            { name: "A", value: "1" },
            { name: "B", value: "2" },
          ],
          extend: true,
        },
      ],
    } satisfies GeneratedPlan);
    expect(warnings).toEqual([]);
  });

  it("takes a switch-only run.Dockerfile as a switch that does not extend, and the kind's own context over none", async () => {
    const { plan, generatedDir: g } = await read(
      { "example_switch/run.Dockerfile": SWITCH, "example_switch/context.run/": "" },
      ["example/switch"],
    );
    expect(plan.run).toEqual([
      {
        extensionId: "example/switch",
        kind: "run",
        dockerfile: join(g, "example_switch/run.Dockerfile"),
        context: join(g, "example_switch/context.run"),
        args: [],
        switchTo: "localhost:5000/run-with-tools:1",
        extend: false,
      },
    ]);
    expect(plan.build).toEqual([]);
  });

  it("reads nothing for a group without extensions", async () => {
    const { generatedDir, appDir } = await fixture({ "example_apt/build.Dockerfile": BUILD });
    const plan = await readGenerated({
      generatedDir,
      appDir,
      platformApi: "0.13",
      group: { group: [{ id: "example/node", version: "1.0.0", api: "0.10" }] },
    });
    expect(plan).toEqual({ build: [], run: [] });
  });

  it("passes on warnings naming the extension and the file", async () => {
    const { warnings } = await read(
      {
        "example_apt/run.Dockerfile": 'FROM ${base_image}\nCMD ["sh"]\n',
        "example_apt/build.Dockerfile": `${BUILD}USER root\n`,
      },
      ["example/apt"],
    );
    expect(warnings).toEqual([
      "extension example/apt: generated/example_apt/run.Dockerfile: line 2: CMD is not recommended in an extension's Dockerfile (use FROM, ADD, ARG, COPY, ENV, LABEL, RUN, SHELL, USER, WORKDIR)",
      "extension example/apt: generated/example_apt/build.Dockerfile: line 9: USER root leaves the build image running as root, and no later build.Dockerfile sets another user",
    ]);
  });
});

describe("readGenerated, Platform < 0.13", () => {
  it("reads <generated>/<kind>/<id>/Dockerfile with the extend-config.toml beside it; the context is the app", async () => {
    const {
      plan,
      generatedDir: g,
      appDir,
    } = await read(
      {
        "build/example_apt/Dockerfile": BUILD,
        "build/example_apt/extend-config.toml": CONFIG,
        "run/example_apt/Dockerfile.ignore": EXTEND_RUN,
        "run/example_switch/Dockerfile": SWITCH,
        "run/example_switch/extend-config.toml": CONFIG,
        // a <0.13 platform does not look here
        "example_apt/build.Dockerfile": BUILD,
      },
      ["example/apt", "example/switch"],
      "0.12",
    );
    expect(plan).toEqual({
      build: [
        {
          extensionId: "example/apt",
          kind: "build",
          dockerfile: join(g, "build/example_apt/Dockerfile"),
          context: appDir,
          args: [{ name: "PG_MAJOR", value: "16" }],
          extend: true,
        },
      ],
      run: [
        {
          extensionId: "example/switch",
          kind: "run",
          dockerfile: join(g, "run/example_switch/Dockerfile"),
          context: appDir,
          args: [
            { name: "A", value: "1" },
            { name: "B", value: "2" },
          ],
          switchTo: "localhost:5000/run-with-tools:1",
          extend: false,
        },
      ],
    } satisfies GeneratedPlan);
  });

  it("names the old layout's files in its messages", async () => {
    expect(
      await refusal(
        { "build/example_apt/Dockerfile": "ARG base_image\nFROM ${base_image}\nFETCH x\n" },
        ["example/apt"],
        "0.12",
      ),
    ).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/apt: generated/build/example_apt/Dockerfile: line 3: unknown instruction FETCH",
      hints: ["fix the Dockerfile at that line (docker build would refuse it too)"],
    });
  });
});

describe("readGenerated refuses", () => {
  it("a Dockerfile that breaks a rule, naming the extension, the file and the line", async () => {
    expect(await refusal({ "example_apt/build.Dockerfile": "ARG base_image\nFROM ubuntu:jammy\n" })).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/apt: generated/example_apt/build.Dockerfile: line 2: the build image can only be extended: FROM must be FROM ${base_image}, found FROM ubuntu:jammy",
      hints: ["write FROM ${base_image}; only a run.Dockerfile can switch to another image"],
    });
    expect(await refusal({ "example_apt/run.Dockerfile": "RUN true\nFROM ${base_image}\n" })).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/apt: generated/example_apt/run.Dockerfile: line 1: RUN before FROM (only ARG may come first)",
      hints: ["move the RUN after FROM"],
    });
    expect(await refusal({ "example_apt/build.Dockerfile": "FROM ${base_image}\n" })).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/apt: generated/example_apt/build.Dockerfile: exactly one ARG must come before FROM, and it must be base_image (found: none)",
      hints: ["start the file with the two lines ARG base_image and FROM ${base_image}"],
    });
  });

  it("the reserved args in extend-config.toml", async () => {
    expect(
      await refusal({
        "example_apt/build.Dockerfile": BUILD,
        "example_apt/extend-config.toml":
          '[[build.args]]\nname = "OK"\nvalue = "1"\n[[build.args]]\nname = "user_id"\nvalue = "0"\n',
      }),
    ).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        'extension example/apt: generated/example_apt/extend-config.toml: build.args[1].name "user_id" is reserved (the lifecycle sets build_id, user_id and group_id)',
      hints: [
        "extend-config.toml holds [[build.args]] and [[run.args]] tables of name and value strings; build_id, user_id and group_id are set by the platform",
      ],
    });
  });

  it("a run image left running as root, unless a later run.Dockerfile sets another user", async () => {
    const root =
      "ARG base_image\nFROM ${base_image}\nUSER root\nRUN apt-get install -y libpq5\nUSER 0:0\nRUN true\n";
    expect(
      await refusal({ "example_apt/run.Dockerfile": root, "example_tools/run.Dockerfile": EXTEND_RUN }, [
        "example/apt",
        "example/tools",
      ]),
    ).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/apt: generated/example_apt/run.Dockerfile: line 5: USER 0:0 leaves the run image running as root, and no later run.Dockerfile sets another user",
      hints: [RESET_USER_HINT],
    });
    const { plan } = await read(
      {
        "example_apt/run.Dockerfile": root,
        "example_tools/run.Dockerfile": `${EXTEND_RUN}ARG user_id\nARG group_id\nUSER \${user_id}:\${group_id}\n`,
      },
      ["example/apt", "example/tools"],
    );
    expect(plan.run.map((s) => s.extensionId)).toEqual(["example/apt", "example/tools"]);
    expect(RESET_USER_HINT).toBe(
      "end the run.Dockerfile with USER ${user_id}:${group_id} (the user the run image had), or add a later extension whose run.Dockerfile does",
    );
  });

  it("a switch after a run.Dockerfile that generate should have renamed .ignore", async () => {
    expect(
      await refusal({ "example_apt/run.Dockerfile": EXTEND_RUN, "example_switch/run.Dockerfile": SWITCH }, [
        "example/apt",
        "example/switch",
      ]),
    ).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/switch: generated/example_switch/run.Dockerfile: switches the run image to localhost:5000/run-with-tools:1, but the run.Dockerfile of extension example/apt before it (generated/example_apt/run.Dockerfile) is not ignored: it would apply to an image thrown away",
      hints: [
        "run the detector again: its generate step renames the run.Dockerfiles before a switch to run.Dockerfile.ignore",
      ],
    });
  });

  it("context/ together with a kind's own context", async () => {
    expect(
      await refusal({
        "example_apt/build.Dockerfile": BUILD,
        "example_apt/context/": "",
        "example_apt/context.run/": "",
      }),
    ).toEqual({
      code: "CNBP_EXTENSION_INVALID",
      message:
        "extension example/apt: generated/example_apt: context/ (shared by both images) cannot be combined with context.run/",
      hints: [
        "put the files both Dockerfiles need in each of context.build/ and context.run/, and remove context/",
      ],
    });
  });
});
