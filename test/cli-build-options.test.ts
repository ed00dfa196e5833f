/**
 * `cnbp build` options that change where the lifecycle runs and what it sees: `--lifecycle-image` (the
 * registry phases run in another image's /cnb/lifecycle, on a Platform API both lifecycles speak),
 * `--workspace` (the app's directory in the containers) and `--platform` (the builder's platform checked).
 */
import { chmod, cp, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cnbp,
  cnbpWorkdir,
  engine,
  publish,
  REGISTRY,
  REPO_ROOT,
  RUN_ID,
  removeCacheVolumes,
  removeImages,
  STACKS,
  stackTables,
} from "#test-utils";

const BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/options-builder:1`;
const LIFECYCLE_IMAGE = `localhost/cnbp-test/${RUN_ID}/lifecycle:1`;
const OLD_LIFECYCLE_IMAGE = `localhost/cnbp-test/${RUN_ID}/lifecycle-old:1`;
const IMAGE = `localhost/cnbp-test/${RUN_ID}/options-app:1`;
const LIFECYCLE_TREE = join(REPO_ROOT, "packages/lifecycle/dist/cnb-lifecycle");

const FILES: Record<string, string> = {
  "bp/app/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/app"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/app/bin/detect": "#!/bin/sh\n[ -f app.txt ] || exit 100\n",
  "bp/app/bin/build": [
    "#!/bin/sh",
    'echo "app: building in $(pwd)"',
    'printf \'[[processes]]\\ntype = "web"\\ncommand = ["cat", "app.txt"]\\ndefault = true\\n\' > "$CNB_LAYERS_DIR/launch.toml"',
    "",
  ].join("\n"),
  "builder.toml": [
    '[[buildpacks]]\nuri = "bp/app"',
    '[[order]]\n[[order.group]]\nid = "ex/app"\nversion = "1.0.0"',
    stackTables("busybox"),
    "",
  ].join("\n"),
  "app/app.txt": "the app's own file\n",
};

let dir: string;
let env: Record<string, string>;

const build = (extra: readonly string[]) =>
  cnbp(["build", IMAGE, "--path", join(dir, "app"), "--builder", BUILDER, "--driver", "podman", ...extra], {
    env,
  });

/** A lifecycle image: busybox with cnbp's lifecycle, whose analyzer says where it runs, and its APIs label. */
async function lifecycleImage(tag: string, platformApis: readonly string[]) {
  const context = join(dir, `lifecycle-${platformApis.join("-")}`);
  await cp(LIFECYCLE_TREE, join(context, "lifecycle"), { recursive: true, verbatimSymlinks: true });
  await unlink(join(context, "lifecycle", "analyzer"));
  await writeFile(
    join(context, "lifecycle", "analyzer"),
    '#!/bin/sh\necho "analyzer of the lifecycle image"\nexec /cnb/lifecycle/lifecycle analyzer "$@"\n',
  );
  await chmod(join(context, "lifecycle", "analyzer"), 0o755);
  const apis = JSON.stringify({
    buildpack: { deprecated: [], supported: ["0.10"] },
    platform: { deprecated: [], supported: platformApis },
  });
  await writeFile(
    join(context, "Dockerfile"),
    `FROM ${STACKS.busybox.run}\nCOPY lifecycle /cnb/lifecycle\nLABEL io.buildpacks.lifecycle.apis='${apis}'\n`,
  );
  await engine("podman", ["build", "-q", "-t", tag, context]);
}

beforeAll(async () => {
  ({ dir, env } = await cnbpWorkdir("cnbp-options-", FILES));
  await publish("builder create", BUILDER, join(dir, "builder.toml"), env);
  await lifecycleImage(LIFECYCLE_IMAGE, ["0.12", "0.13"]);
  await lifecycleImage(OLD_LIFECYCLE_IMAGE, ["0.9"]);
}, 300_000);

afterAll(async () => {
  await removeImages("podman", [IMAGE, BUILDER, LIFECYCLE_IMAGE, OLD_LIFECYCLE_IMAGE]);
  await removeCacheVolumes("podman", [IMAGE]);
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp build --lifecycle-image", () => {
  it("runs the registry phases in the lifecycle image, on a Platform API both lifecycles speak", async () => {
    const r = await build(["--lifecycle-image", LIFECYCLE_IMAGE, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("analyzer of the lifecycle image");
    expect(JSON.parse(r.stdout)).toMatchObject({ image: IMAGE, platformApi: "0.13" });
    expect(await engine("podman", ["run", "--rm", IMAGE])).toBe("the app's own file");
  }, 300_000);

  it("refuses a lifecycle image that speaks no Platform API the builder's lifecycle does", async () => {
    const r = await build(["--lifecycle-image", OLD_LIFECYCLE_IMAGE]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      `builder ${BUILDER} and lifecycle image ${OLD_LIFECYCLE_IMAGE}: their lifecycles support Platform API 0.12, 0.13, 0.14, 0.15 and 0.9, and cnbp speaks 0.12, 0.13, 0.14, 0.15`,
    );
  }, 120_000);
});

describe("cnbp build --workspace", () => {
  it("puts the app where the flag says, and the image starts there", async () => {
    const r = await build(["--workspace", "/srv/app"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("app: building in /srv/app");
    expect(await engine("podman", ["image", "inspect", "--format", "{{.Config.WorkingDir}}", IMAGE])).toBe(
      "/srv/app",
    );
    expect(await engine("podman", ["run", "--rm", IMAGE])).toBe("the app's own file");
  }, 300_000);

  it("refuses a directory the lifecycle uses", async () => {
    const r = await build(["--workspace", "/layers/app"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      "build: --workspace /layers/app: takes a directory the lifecycle uses (/layers)",
    );
  });
});

describe("cnbp build --platform", () => {
  it("refuses a builder of another platform than the flag names", async () => {
    const r = await build(["--platform", "linux/arm64", "--pull-policy", "never"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`builder ${BUILDER} is for linux/amd64, not the --platform linux/arm64`);
  });

  it("refuses a value that is not os/arch", async () => {
    const r = await build(["--platform", "arm64"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('build: --platform "arm64" is not <os>/<arch>[/<variant>]');
  });
});
