/**
 * `cnbp build` with image extensions (issue 7): the platform applies the extensions' Dockerfiles with a
 * build driver (Buildah, Podman or Docker). On the Debian stack an extension apt-installs a tool into the
 * build image that a buildpack uses, another a library into the run image; on the busybox stack (a run image
 * with no package manager) an extension COPYs a file from its own context into the run image, and another
 * switches the run image. A rebuild runs no Dockerfile step; a Dockerfile that breaks the rules builds
 * nothing.
 */
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  builderConfig,
  buildLeftovers,
  cnbp,
  cnbpWorkdir,
  ENGINES,
  type EngineName,
  engine,
  phasesDone,
  publish,
  REGISTRY,
  RUN_ID,
  removeCacheVolumes,
  removeImages,
  STACKS,
  writeApp,
} from "#test-utils";

const DEBIAN_BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/ext-debian-builder:1`;
const BUSYBOX_BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/ext-busybox-builder:1`;
/** A second busybox run image, which an extension switches to; its label tells it apart. */
const ALT_RUN = `${REGISTRY}/cnbp-test/${RUN_ID}/ext-alt-run:1`;
const appImage = (name: string) => `localhost/cnbp-test/${RUN_ID}/ext-${name}:1`;
/** The apps the tests build, each into appImage(name), on one engine or the other. */
const APPS = ["debian", "debian-docker", "files-docker", "files-podman", "switch", "broken"];

const toml = (kind: "buildpack" | "extension", id: string, api = "0.10") =>
  `api = "${api}"\n[${kind}]\nid = "${id}"\nversion = "1.0.0"\n${kind === "buildpack" ? '[[targets]]\nos = "linux"\n' : ""}`;
/** An extension's bin/generate that writes `files` (path -> content; `*-bin` ones executable) into its output dir. */
const generate = (files: Record<string, string>) =>
  [
    "#!/bin/sh",
    "set -eu",
    ...Object.entries(files).flatMap(([path, content]) => [
      `mkdir -p "$CNB_OUTPUT_DIR/${dirname(path)}"`,
      `cat > "$CNB_OUTPUT_DIR/${path}" <<'EOF'\n${content}EOF`,
      ...(path.endsWith("-bin") ? [`chmod 755 "$CNB_OUTPUT_DIR/${path}"`] : []),
    ]),
    'chmod -R a+rX "$CNB_OUTPUT_DIR"',
    "",
  ].join("\n");
/** Passes when the app has `file`. */
const detectOn = (file: string) => `#!/bin/sh\n[ -f ${file} ] || exit 100\n`;

/** Every Dockerfile names this run, so the first build of a run applies it rather than reuse an earlier run's. */
const FROM_BASE = `ARG base_image\nFROM \${base_image}\n# test run ${RUN_ID}\n`;
// biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfiles' own build args
const RESET_USER = "ARG user_id\nARG group_id\nUSER ${user_id}:${group_id}\n";
const aptInstall = (pkg: string) =>
  `USER root\nRUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ${pkg} >/dev/null && rm -rf /var/lib/apt/lists/*\n`;

/** The stack's builder.toml: the app's buildpack and `extensions` (from ext/<name>), each optional in their order. */
const builderToml = (stack: "debian" | "busybox", extensions: readonly string[]) =>
  builderConfig(
    stack,
    ["bp/app"],
    ["ex/app"],
    [
      ...extensions.map((e) => `[[extensions]]\nuri = "ext/${e}"`),
      `[[order-extensions]]\n${extensions
        .map((e) => `[[order-extensions.group]]\nid = "ex/${e}"\nversion = "1.0.0"\noptional = true`)
        .join("\n")}`,
    ],
  );

const FILES: Record<string, string> = {
  // Debian: a tool for the build image, a library for the run image, and a buildpack that needs both
  "debian/ext/jq/extension.toml": toml("extension", "ex/jq"),
  "debian/ext/jq/bin/detect": detectOn("tools.txt"),
  "debian/ext/jq/bin/generate": generate({ "build.Dockerfile": FROM_BASE + aptInstall("jq") + RESET_USER }),
  "debian/ext/yaml/extension.toml": toml("extension", "ex/yaml"),
  "debian/ext/yaml/bin/detect": detectOn("tools.txt"),
  "debian/ext/yaml/bin/generate": generate({
    // a package in the run image may not survive a rebase onto a newer one: the extension says so
    "run.Dockerfile": `${FROM_BASE + aptInstall("libyaml-0-2") + RESET_USER}LABEL io.buildpacks.rebasable=false\n`,
  }),
  "debian/bp/app/buildpack.toml": toml("buildpack", "ex/app"),
  "debian/bp/app/bin/detect": "#!/bin/sh\nexit 0\n",
  "debian/bp/app/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'mkdir -p "$CNB_LAYERS_DIR/tool"',
    'jq --version > "$CNB_LAYERS_DIR/tool/jq-version.txt"',
    'printf "[types]\\nlaunch = true\\n" > "$CNB_LAYERS_DIR/tool.toml"',
    'cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML',
    "[[processes]]",
    'type = "web"',
    'command = ["/bin/sh", "-c", "echo built with $(cat /layers/ex_app/tool/jq-version.txt); ls /usr/lib/*/libyaml-0.so.2 >/dev/null && echo libyaml is here; command -v jq || echo no jq at run time"]',
    "default = true",
    "TOML",
    "",
  ].join("\n"),
  // busybox: files for the run image from the extension's own context, and a switch of the run image
  "busybox/ext/files/extension.toml": toml("extension", "ex/files"),
  "busybox/ext/files/bin/detect": detectOn("files.txt"),
  "busybox/ext/files/bin/generate": generate({
    "context.run/hello-bin": "#!/bin/sh\necho hello from the extension layer\n",
    "context.run/not-copied.txt": "only in the extension's context\n",
    "context.build/build-only.txt": "only in the build image\n",
    "run.Dockerfile": `${FROM_BASE}COPY hello-bin /usr/local/bin/hello-bin\nLABEL io.buildpacks.rebasable=true\n`,
    "build.Dockerfile": `${FROM_BASE}COPY build-only.txt /opt/build-only.txt\n`,
  }),
  "busybox/ext/switch/extension.toml": toml("extension", "ex/switch"),
  "busybox/ext/switch/bin/detect": detectOn("switch.txt"),
  "busybox/ext/switch/bin/generate": generate({ "run.Dockerfile": `FROM ${ALT_RUN}\n` }),
  "busybox/ext/broken/extension.toml": toml("extension", "ex/broken"),
  "busybox/ext/broken/bin/detect": detectOn("broken.txt"),
  "busybox/ext/broken/bin/generate": generate({
    "build.Dockerfile": "ARG base_image\nFROM busybox:latest\nRUN echo never\n",
  }),
  "busybox/bp/app/buildpack.toml": toml("buildpack", "ex/app"),
  "busybox/bp/app/bin/detect": "#!/bin/sh\nexit 0\n",
  "busybox/bp/app/bin/build": [
    "#!/bin/sh",
    "set -eu",
    '[ ! -f /opt/build-only.txt ] || echo "app: the build image has $(cat /opt/build-only.txt)"',
    'cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML',
    "[[processes]]",
    'type = "web"',
    'command = ["/bin/sh", "-c", "if [ -x /usr/local/bin/hello-bin ]; then /usr/local/bin/hello-bin; else echo no hello-bin; fi; ls /opt /usr/local/bin/not-copied.txt 2>&1 | head -1"]',
    "default = true",
    "TOML",
    "",
  ].join("\n"),
  "debian/builder.toml": builderToml("debian", ["jq", "yaml"]),
  "busybox/builder.toml": builderToml("busybox", ["files", "switch", "broken"]),
  "Dockerfile.alt": `FROM ${STACKS.busybox.run}\nLABEL io.cnbp.test.alt=yes\n`,
};

let dir: string;
let env: Record<string, string>;

const build = (
  driver: EngineName,
  builder: string,
  image: string,
  app: string,
  extra: readonly string[] = [],
) => cnbp(["build", image, "--path", app, "--builder", builder, "--driver", driver, ...extra], { env });

const run = (driver: EngineName, image: string) => execa(driver, ["run", "--rm", image], { reject: false });

const label = async (driver: EngineName, image: string, name: string) =>
  engine(driver, ["image", "inspect", "--format", `{{ index .Config.Labels "${name}" }}`, image]);

/** Lines in a build's output that say a Dockerfile step ran (Buildah and Podman: `STEP 1/4:`, Docker: `Step 1/4 :`). */
const dockerfileSteps = (output: string) =>
  output.split("\n").filter((l) => /^(STEP|Step) \d+\/\d+ ?:/.test(l));

beforeAll(async () => {
  ({ dir, env } = await cnbpWorkdir("cnbp-ext-", FILES));
  await publish("builder create", DEBIAN_BUILDER, join(dir, "debian", "builder.toml"), env);
  await publish("builder create", BUSYBOX_BUILDER, join(dir, "busybox", "builder.toml"), env);
  await engine("podman", ["build", "-q", "-t", ALT_RUN, "-f", join(dir, "Dockerfile.alt"), dir]);
  await engine("podman", ["push", "--tls-verify=false", ALT_RUN]);
}, 300_000);

afterAll(async () => {
  for (const driver of ENGINES) {
    await removeImages(driver, [DEBIAN_BUILDER, BUSYBOX_BUILDER, ALT_RUN], `cnbp-test/${RUN_ID}`);
    await removeCacheVolumes(driver, APPS.map(appImage));
  }
  await rm(dir, { recursive: true, force: true });
});

describe("extensions on the Debian stack, applied by Buildah for Podman", () => {
  const IMAGE = appImage("debian");
  let app: string;

  it("installs a tool into the build image and a library into the run image", async () => {
    app = await writeApp(dir, "apps/debian", { "tools.txt": "" });
    const r = await build("podman", DEBIAN_BUILDER, IMAGE, app, ["--extend-driver", "buildah"]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(phasesDone(r.stdout)).toEqual([
      "[cnbp] analyze done",
      "[cnbp] detect done",
      "[cnbp] restore done",
      "[cnbp] extend done",
      "[cnbp] build done",
      "[cnbp] extend done",
      "[cnbp] export done",
    ]);
    expect(r.stdout).toContain("[cnbp] extension ex/jq: applying build.Dockerfile to ");
    expect(r.stdout).toContain("[cnbp] extension ex/yaml: applying run.Dockerfile to ");
    const out = await run("podman", IMAGE);
    expect(out.stdout.split("\n")).toEqual(["built with jq-1.6", "libyaml is here", "no jq at run time"]);
    // the run image's label says true, but its extension said its layers do not survive a rebase
    expect(await label("podman", IMAGE, "io.buildpacks.rebasable")).toBe("false");
  }, 600_000);

  it("rebuilds without running a single Dockerfile step", async () => {
    const r = await build("podman", DEBIAN_BUILDER, IMAGE, app, ["--extend-driver", "buildah"]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(dockerfileSteps(r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(
      /\[cnbp\] extension ex\/jq: build\.Dockerfile unchanged, reusing localhost\/cnbp-extended\/build:[0-9a-f]{24}\n/,
    );
    expect(r.stdout).toMatch(
      /\[cnbp\] extension ex\/yaml: run\.Dockerfile unchanged, reusing localhost\/cnbp-extended\/run:[0-9a-f]{24}\n/,
    );
    expect((await run("podman", IMAGE)).stdout).toContain("libyaml is here");
  }, 300_000);
});

describe("extensions on the Debian stack, applied by Docker for Docker", () => {
  it("installs a tool into the build image and a library into the run image", async () => {
    const app = await writeApp(dir, "apps/debian-docker", { "tools.txt": "" });
    const image = appImage("debian-docker");
    const r = await build("docker", DEBIAN_BUILDER, image, app);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect((await run("docker", image)).stdout.split("\n")).toEqual([
      "built with jq-1.6",
      "libyaml is here",
      "no jq at run time",
    ]);
  }, 600_000);
});

describe.each([
  ["docker", "buildah"],
  ["podman", "podman"],
] as const)(
  "extension layers on a run image with no package manager (%s, applied by %s)",
  (driver, extender) => {
    it("copies a file from the extension's context into the run image, and nothing else", async () => {
      const app = await writeApp(dir, `apps/files-${driver}`, { "files.txt": "" });
      const image = appImage(`files-${driver}`);
      const r = await build(driver, BUSYBOX_BUILDER, image, app, ["--extend-driver", extender]);
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("app: the build image has only in the build image");
      const out = await run(driver, image);
      // hello-bin came in; the build image's /opt and the context's other file did not
      expect(out.stdout.split("\n")).toEqual([
        "hello from the extension layer",
        "ls: /opt: No such file or directory",
      ]);
      expect(await label(driver, image, "io.buildpacks.rebasable")).toBe("true");
    }, 300_000);
  },
);

describe("a run image switched by an extension", () => {
  it("exports onto the image the extension names", async () => {
    const app = await writeApp(dir, "apps/switch", { "switch.txt": "" });
    const image = appImage("switch");
    const r = await build("podman", BUSYBOX_BUILDER, image, app, ["--json"]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runImage: ALT_RUN });
    expect(await label("podman", image, "io.cnbp.test.alt")).toBe("yes");
    expect((await run("podman", image)).stdout.split("\n")[0]).toBe("no hello-bin");
  }, 300_000);
});

describe("an extension whose Dockerfile breaks the rules", () => {
  it("fails naming the extension, the file and the line, and builds nothing", async () => {
    const app = await writeApp(dir, "apps/broken", { "broken.txt": "" });
    const image = appImage("broken");
    const before = await engine("podman", ["images", "-q", "localhost/cnbp-extended/build"]);
    const r = await build("podman", BUSYBOX_BUILDER, image, app);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the rule's own words
      "generated/ex_broken/build.Dockerfile: line 2: the build image can only be extended: FROM must be FROM ${base_image}, found FROM busybox:latest",
    );
    expect(await engine("podman", ["images", "-q", "localhost/cnbp-extended/build"])).toBe(before);
    expect(await execa("podman", ["image", "exists", image], { reject: false })).toMatchObject({
      exitCode: 1,
    });
    expect(await buildLeftovers("podman", image)).toEqual({ containers: [], volumes: [] });
  }, 300_000);
});
