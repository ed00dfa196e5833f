/**
 * `cnbp inspect` and `cnbp rebase` on app images built by `cnbp build` (Podman, a builder made by `cnbp builder
 * create` on the busybox stack, whose run image is this test's own copy in the local registry): inspect shows
 * the run image, buildpacks, processes and rebasability from the store and the registry; rebase puts the app on
 * a "v2" of that run image, in the store and in the registry, keeping every app layer; bad input is refused.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cnbp,
  cnbpWorkdir,
  engine,
  inRegistry,
  publish,
  REGISTRY,
  RUN_ID,
  removeCacheVolumes,
  STACKS,
  stackTables,
} from "#test-utils";

const PREFIX = `cnbp-test/${RUN_ID}`;
const RUN_IMAGE = `${REGISTRY}/${PREFIX}/rebase-run:1`;
const BUILDER = `${REGISTRY}/${PREFIX}/rebase-builder:1`;
const APP = `localhost/${PREFIX}/rebase-app:1`;
const PUBLISHED = `${REGISTRY}/${PREFIX}/rebase-app:1`;
const NOT_REBASABLE = `localhost/${PREFIX}/not-rebasable:1`;
/** Names a rebase with --previous-image APP and --tag writes. */
const COPY = `localhost/${PREFIX}/rebase-copy:1`;
const COPY_TAG = `localhost/${PREFIX}/rebase-copy:2`;

const FILES: Record<string, string> = {
  "bp/hello/buildpack.toml": [
    'api = "0.10"',
    "[buildpack]",
    'id = "ex/hello"',
    'version = "1.2.3"',
    'homepage = "https://example.com/hello"',
    "[[targets]]",
    'os = "linux"',
    "",
  ].join("\n"),
  "bp/hello/bin/detect": "#!/bin/sh\nexit 0\n",
  "bp/hello/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'mkdir -p "$CNB_LAYERS_DIR/hello/bin"',
    'printf \'#!/bin/sh\\necho "hello from the app, $*"\\n\' > "$CNB_LAYERS_DIR/hello/bin/hello"',
    'chmod +x "$CNB_LAYERS_DIR/hello/bin/hello"',
    'printf "[types]\\nlaunch = true\\n" > "$CNB_LAYERS_DIR/hello.toml"',
    'cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML',
    "[[processes]]",
    'type = "web"',
    'command = ["hello"]',
    'args = ["on", "the web"]',
    "default = true",
    "",
    "[[processes]]",
    'type = "worker"',
    'command = ["cat", "app.txt"]',
    'working-dir = "/workspace"',
    "TOML",
    "",
  ].join("\n"),
  "app/app.txt": "the app's own file\n",
  "builder.toml": [
    '[[buildpacks]]\nuri = "bp/hello"',
    '[[order]]\n[[order.group]]\nid = "ex/hello"\nversion = "1.2.3"',
    `${stackTables("busybox", RUN_IMAGE)}\nmirrors = ["${REGISTRY}/${PREFIX}/rebase-run-mirror:1"]`,
    "",
  ].join("\n"),
  // v2 of the run image: the same stack (FROM keeps its io.buildpacks.* labels) with one more file
  "run-v2/Containerfile": `FROM ${RUN_IMAGE}\nUSER root\nRUN echo v2 > /etc/run-image-version\nUSER 1001:1000\n`,
  "not-rebasable/Containerfile": `FROM ${APP}\nLABEL io.buildpacks.rebasable=false\n`,
};

let dir: string;
let env: Record<string, string>;
/** Images the rebases leave untagged (the app before each rebase), removed at the end. */
const replaced: string[] = [];

const podman = (args: readonly string[]) => engine("podman", args);
const run = (args: readonly string[]) => cnbp(args, { env });

/** The image's layer diff ids in Podman's store, base first. */
const diffIds = async (image: string) =>
  JSON.parse(await podman(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image])) as string[];
const imageId = async (image: string) =>
  `sha256:${await podman(["image", "inspect", "--format", "{{.Id}}", image])}`;
/** The manifest of an image in the registry: its digest and its layers' digests. */
async function registryManifest(image: string) {
  const raw = (await execa("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${image}`])).stdout;
  const manifest = JSON.parse(raw) as { config: { digest: string }; layers: { digest: string }[] };
  return {
    digest: `sha256:${createHash("sha256").update(raw).digest("hex")}`,
    config: manifest.config.digest,
    layers: manifest.layers.map((l) => l.digest),
  };
}

/** `text` against `template`, where each `<NAME>` stands for the pattern `patterns[NAME]` and the rest is literal. */
function expectMatch(text: string, template: string, patterns: Record<string, string>) {
  const parts = template.split(/<([A-Z_]+)>/);
  const source = parts
    .map((part, i) =>
      i % 2 === 1 ? `(?:${patterns[part] ?? part})` : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  expect(text).toMatch(new RegExp(`^${source}$`));
}

const DIGEST = "sha256:[0-9a-f]{64}";
const SECONDS = "\\d+\\.\\d\\d";

const inspectHead = (image: string) => `Inspecting image: ${image}\n\n`;
const appSection = (o: { title: string; id: string; digest: string; reference: string; topLayer: string }) =>
  [
    o.title,
    `Image ID: ${o.id}`,
    `Digest: ${o.digest}`,
    "Target: linux/amd64",
    "Stack: io.cnbp.stacks.busybox-1.35.0",
    "",
    "Base Image:",
    `  Reference: ${o.reference}`,
    `  Top Layer: ${o.topLayer}`,
    "",
    "Run Images:",
    `  ${RUN_IMAGE}`,
    `  ${REGISTRY}/${PREFIX}/rebase-run-mirror:1    (mirror)`,
    "",
    "Rebasable: true",
    "",
    "Buildpacks:",
    "  ID          VERSION    HOMEPAGE",
    "  ex/hello    1.2.3      https://example.com/hello",
    "",
    "Processes:",
    "  TYPE             COMMAND        ARGS          WORK DIR",
    "  web (default)    hello          on the web",
    "  worker           cat app.txt                  /workspace",
  ].join("\n");

beforeAll(async () => {
  ({ dir, env } = await cnbpWorkdir("cnbp-rebase-", FILES));
  await podman(["push", "--tls-verify=false", STACKS.busybox.run, RUN_IMAGE]);
  await publish("builder create", BUILDER, join(dir, "builder.toml"), env);
  for (const [image, extra] of [
    [APP, []],
    [PUBLISHED, ["--publish", "--network", "host"]],
  ] as const) {
    const built = await run([
      "build",
      image,
      "--path",
      join(dir, "app"),
      "--builder",
      BUILDER,
      "--driver",
      "podman",
      ...extra,
    ]);
    expect(built.exitCode, built.stderr).toBe(0);
  }
}, 600_000);

afterAll(async () => {
  await removeCacheVolumes("podman", [APP, PUBLISHED]);
  await podman([
    "rmi",
    "-f",
    "--ignore",
    APP,
    PUBLISHED,
    NOT_REBASABLE,
    COPY,
    COPY_TAG,
    RUN_IMAGE,
    BUILDER,
    ...replaced,
  ]);
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp inspect", () => {
  it("prints what the app image in the store holds", async () => {
    const r = await run(["inspect", APP, "--driver", "podman"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const runLayers = await diffIds(STACKS.busybox.run);
    expectMatch(
      r.stdout,
      `${inspectHead(APP)}REMOTE:\n(not looked up: the name has no registry host)\n\n${appSection({
        title: "LOCAL (podman's image store):",
        id: await imageId(APP),
        digest: "<DIGEST>",
        // the build's exporter records the run image as it read it: in the layout repository
        reference: `/layout-repo/${REGISTRY}/${PREFIX}/rebase-run/1@<DIGEST>`,
        topLayer: runLayers.at(-1) as string,
      })}`,
      { DIGEST },
    );
  });

  it("prints the registry's image and says the store has none, as JSON too", async () => {
    const manifest = await registryManifest(PUBLISHED);
    const runManifest = await registryManifest(RUN_IMAGE);
    const human = await run(["inspect", PUBLISHED, "--driver", "podman"]);
    expect(human.stderr).toBe("");
    expect(human.stdout).toBe(
      `${inspectHead(PUBLISHED)}${appSection({
        title: `REMOTE (registry ${REGISTRY}):`,
        id: manifest.config,
        digest: manifest.digest,
        reference: `${REGISTRY}/${PREFIX}/rebase-run@${runManifest.digest}`,
        topLayer: (await diffIds(STACKS.busybox.run)).at(-1) as string,
      })}\n\nLOCAL (podman's image store):\n(not present)`,
    );
    const json = await run(["inspect", PUBLISHED, "--driver", "podman", "--json"]);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      image: PUBLISHED,
      remote: {
        status: "found",
        where: `registry ${REGISTRY}`,
        id: manifest.config,
        digest: manifest.digest,
        target: { os: "linux", arch: "amd64" },
        stackId: "io.cnbp.stacks.busybox-1.35.0",
        base: {
          reference: `${REGISTRY}/${PREFIX}/rebase-run@${runManifest.digest}`,
          topLayer: (await diffIds(STACKS.busybox.run)).at(-1),
        },
        runImages: [
          { image: RUN_IMAGE, mirror: false },
          { image: `${REGISTRY}/${PREFIX}/rebase-run-mirror:1`, mirror: true },
        ],
        rebasable: true,
        buildpacks: [{ id: "ex/hello", version: "1.2.3", homepage: "https://example.com/hello" }],
        extensions: [],
        processes: [
          { type: "web", command: ["hello"], args: ["on", "the web"], direct: true, default: true },
          {
            type: "worker",
            command: ["cat", "app.txt"],
            args: [],
            workingDir: "/workspace",
            direct: true,
            default: false,
          },
        ],
      },
      local: { status: "absent", where: "podman's image store" },
    });
  });

  it("refuses an image that was not built by buildpacks, and one it cannot find, saying where it looked", async () => {
    const plain = await run(["inspect", STACKS.busybox.run, "--driver", "podman"]);
    expect([plain.exitCode, plain.stdout, plain.stderr]).toEqual([
      1,
      "",
      `error: inspect: ${STACKS.busybox.run} in podman's image store is not an app image built by buildpacks: it has no io.buildpacks.lifecycle.metadata label\n` +
        "  hint: build it with `cnbp build` (or pack), or check the image name",
    ]);
    const missing = `${REGISTRY}/${PREFIX}/missing:1`;
    const absent = await run(["inspect", missing, "--driver", "podman"]);
    expect([absent.exitCode, absent.stdout, absent.stderr]).toEqual([
      1,
      "",
      `error: inspect: ${missing} was not found in podman's image store or in registry ${REGISTRY}\n` +
        "  hint: check the name; images are made with `cnbp build` (add --publish to push them to a registry)",
    ]);
  });
});

describe("cnbp rebase", () => {
  let oldRun: string[];
  let newRun: string[];

  beforeAll(async () => {
    oldRun = await diffIds(STACKS.busybox.run);
    // v2 of the run image under the same name, as a stack maintainer publishes a patched run image
    await podman(["build", "--layers=false", "--tls-verify=false", "-t", RUN_IMAGE, join(dir, "run-v2")]);
    await podman(["push", "--tls-verify=false", RUN_IMAGE]);
    newRun = await diffIds(RUN_IMAGE);
    expect(newRun.slice(0, -1)).toEqual(oldRun);
  }, 300_000);

  it("puts the app in the store on the new run image, keeping every app layer", async () => {
    const before = await diffIds(APP);
    replaced.push(await imageId(APP));
    const r = await run(["rebase", APP, "--driver", "podman"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const appLayers = before.length - oldRun.length;
    expectMatch(
      r.stdout,
      [
        `Rebased ${APP} on run image ${RUN_IMAGE} (${await imageId(RUN_IMAGE)})`,
        `  ${appLayers} app layers kept, ${newRun.length} run image layers; run image top layer ${oldRun.at(-1)} -> ${newRun.at(-1)}`,
        `Successfully rebased image ${APP} (${await imageId(APP)}), in podman's image store, in <SECONDS> s`,
      ].join("\n"),
      { SECONDS },
    );
    expect(await diffIds(APP)).toEqual([...newRun, ...before.slice(oldRun.length)]);
    expect(await podman(["run", "--rm", APP])).toBe("hello from the app, on the web");
    expect(await podman(["run", "--rm", "--entrypoint", "cat", APP, "/etc/run-image-version"])).toBe("v2");
    const inspected = JSON.parse((await run(["inspect", APP, "--driver", "podman", "--json"])).stdout);
    expect(inspected.local.base).toEqual({ reference: await imageId(RUN_IMAGE), topLayer: newRun.at(-1) });
  });

  it("rebases in the registry with --publish, pushing only a config and a manifest", async () => {
    const before = await registryManifest(PUBLISHED);
    const runManifest = await registryManifest(RUN_IMAGE);
    const r = await run(["rebase", PUBLISHED, "--publish", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const after = await registryManifest(PUBLISHED);
    const appLayers = before.layers.length - oldRun.length;
    expect(after.layers).toEqual([...runManifest.layers, ...before.layers.slice(oldRun.length)]);
    expect(JSON.parse(r.stdout)).toEqual({
      image: PUBLISHED,
      tags: [],
      published: true,
      previousImage: PUBLISHED,
      runImage: {
        name: RUN_IMAGE,
        reference: `${REGISTRY}/${PREFIX}/rebase-run@${runManifest.digest}`,
        topLayer: newRun.at(-1),
      },
      previousTopLayer: oldRun.at(-1),
      layers: { runImage: newRun.length, app: appLayers },
      // every layer was in the app's repository already, or mounted from the run image's
      transfer: {
        existing: after.layers.filter((l) => before.layers.includes(l)).length,
        mounted: after.layers.filter((l) => !before.layers.includes(l)).length,
        copied: 0,
        bytes: 0,
      },
      id: after.config,
      digest: after.digest,
      warnings: [],
      seconds: expect.any(Number),
    });
    await podman(["pull", "--tls-verify=false", PUBLISHED]);
    expect(await podman(["run", "--rm", PUBLISHED])).toBe("hello from the app, on the web");
    expect(await podman(["run", "--rm", "--entrypoint", "cat", PUBLISHED, "/etc/run-image-version"])).toBe(
      "v2",
    );
  });

  it("writes the rebase of --previous-image under <image> and every --tag, leaving the previous one as it was", async () => {
    const id = await imageId(APP);
    const r = await run([
      "rebase",
      COPY,
      "--previous-image",
      APP,
      "--tag",
      COPY_TAG,
      "--driver",
      "podman",
      "--pull-policy",
      "never",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const layers = (await diffIds(APP)).length;
    expect(JSON.parse(r.stdout)).toMatchObject({
      image: COPY,
      tags: [COPY_TAG],
      published: false,
      previousImage: APP,
      runImage: { name: RUN_IMAGE, reference: await imageId(RUN_IMAGE), topLayer: newRun.at(-1) },
      previousTopLayer: newRun.at(-1),
      layers: { runImage: newRun.length, app: layers - newRun.length },
      // a new image's layout starts empty: every blob is copied into it once
      transfer: { existing: 0, mounted: 0, copied: layers },
      // the same app on the same run image: the very same image, as rebases are reproducible
      id,
      warnings: [],
    });
    expect([await imageId(COPY), await imageId(COPY_TAG), await imageId(APP)]).toEqual([id, id, id]);
  });

  it("refuses an image marked not rebasable unless --force, then warns", async () => {
    await podman(["build", "--layers=false", "-t", NOT_REBASABLE, join(dir, "not-rebasable")]);
    const refused = await run(["rebase", NOT_REBASABLE, "--driver", "podman", "--pull-policy", "never"]);
    expect([refused.exitCode, refused.stdout, refused.stderr]).toEqual([
      1,
      "",
      `error: rebase: ${NOT_REBASABLE} in podman's image store: app image is not marked as rebasable; please provide --force to override`,
    ]);
    replaced.push(await imageId(NOT_REBASABLE));
    const forced = await run([
      "rebase",
      NOT_REBASABLE,
      "--driver",
      "podman",
      "--pull-policy",
      "never",
      "--force",
    ]);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toBe("warning: app image is not marked as rebasable");
    expect(await podman(["run", "--rm", NOT_REBASABLE])).toBe("hello from the app, on the web");
  });

  it("refuses a run image the app does not record, an image not built by buildpacks, and one that is absent", async () => {
    const other = inRegistry(STACKS.busybox.run);
    const unlisted = await run(["rebase", APP, "--driver", "podman", "--run-image", other]);
    expect([unlisted.exitCode, unlisted.stdout, unlisted.stderr]).toEqual([
      1,
      "",
      `error: rebase: ${APP} in podman's image store: new base image '${other}' not found in existing run image metadata: ` +
        `{"topLayer":"${newRun.at(-1)}","reference":"${await imageId(RUN_IMAGE)}","image":"${RUN_IMAGE}","mirrors":["${REGISTRY}/${PREFIX}/rebase-run-mirror:1"]}; please provide --force to override`,
    ]);
    const plain = await run(["rebase", STACKS.busybox.run, "--driver", "podman"]);
    expect([plain.exitCode, plain.stderr]).toEqual([
      1,
      `error: rebase: ${STACKS.busybox.run} in podman's image store is not an app image built by buildpacks: it has no io.buildpacks.lifecycle.metadata label\n` +
        "  hint: build it with `cnbp build` (or pack), or check the image name",
    ]);
    const missing = `localhost/${PREFIX}/missing:1`;
    const absent = await run(["rebase", missing, "--driver", "podman"]);
    expect([absent.exitCode, absent.stderr]).toEqual([
      1,
      `error: rebase: ${missing} was not found in podman's image store\n` +
        "  hint: build it with `cnbp build`, or add --publish to rebase it in its registry",
    ]);
    const inRegistryMissing = await run(["rebase", `${REGISTRY}/${PREFIX}/missing:1`, "--publish"]);
    expect([inRegistryMissing.exitCode, inRegistryMissing.stderr]).toEqual([
      1,
      `error: rebase: ${REGISTRY}/${PREFIX}/missing:1 was not found in registry ${REGISTRY}\n` +
        "  hint: push it there with `cnbp build --publish`, or rebase the store's copy without --publish",
    ]);
    const missingRun = `${REGISTRY}/${PREFIX}/missing-run:1`;
    const noRun = await run(["rebase", APP, "--driver", "podman", "--run-image", missingRun]);
    expect([noRun.exitCode, noRun.stderr]).toEqual([
      1,
      `error: rebase: run image ${missingRun} was not found in its registry (pull policy always)\n` +
        "  hint: check --run-image, or the run images the app image records (`cnbp inspect`)\n" +
        "  hint: to use the copy in the driver's store, add --pull-policy if-not-present",
    ]);
    const policy = await run(["rebase", APP, "--pull-policy", "sometimes"]);
    expect(policy.exitCode).toBe(2);
    expect(policy.stderr).toContain(
      "error: option '--pull-policy <policy>' argument 'sometimes' is invalid. Allowed choices are always, if-not-present, never.",
    );
  });
});
