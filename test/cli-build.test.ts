/**
 * `cnbp build` on a runtime driver, with a builder made by `cnbp builder create` on the busybox test stack:
 * the image lands in the engine's store and runs; a rebuild reuses the cache and every layer, a source change
 * re-exports only the app layer; --publish pushes; a failing buildpack, Ctrl-C and bad input leave nothing
 * behind but the cache.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI,
  cnbp,
  cnbpWorkdir,
  ENGINES,
  type EngineName,
  inRegistry,
  buildLeftovers as leftovers,
  publish,
  REGISTRY,
  RUN_ID,
  removeCacheVolumes,
  removeImages,
  STACKS,
  stackTables,
  writeApp,
} from "#test-utils";

const BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/build-builder:1`;
const appImage = (engine: EngineName, name = "app") => `localhost/cnbp-test/${RUN_ID}/${engine}-${name}:1`;

/** A runtime buildpack (cached build+launch layer) and the app's (launch layer, processes, env, failure). */
const FILES: Record<string, string> = {
  "bp/runtime/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/runtime"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/runtime/bin/detect": '#!/bin/sh\nprintf "[[provides]]\\nname = \\"runtime\\"\\n" > "$2"\n',
  "bp/runtime/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'rt="$CNB_LAYERS_DIR/rt"',
    'if [ -x "$rt/bin/hello-rt" ]; then echo "runtime: kept from the cache"; else',
    '  echo "runtime: installing"',
    '  mkdir -p "$rt/bin" "$rt/env"',
    '  printf \'#!/bin/sh\\necho "runtime says $GREETING $*"\\n\' > "$rt/bin/hello-rt"',
    '  chmod +x "$rt/bin/hello-rt"',
    '  printf hello > "$rt/env/GREETING.default"',
    "fi",
    'printf "[types]\\nlaunch = true\\nbuild = true\\ncache = true\\n" > "$rt.toml"',
    "",
  ].join("\n"),
  "bp/app/buildpack.toml":
    'api = "0.12"\n[buildpack]\nid = "ex/app"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/app/bin/detect":
    '#!/bin/sh\n[ -f app.txt ] || exit 100\nprintf "[[requires]]\\nname = \\"runtime\\"\\n" > "$2"\n',
  "bp/app/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'echo "app: building with $(env | grep ^MODE= || echo MODE unset)"',
    '[ ! -f slow.txt ] || { echo "app: sleeping"; sleep 60; }',
    '[ ! -f fail.txt ] || { echo "app: fail.txt says to fail" >&2; exit 7; }',
    '[ ! -f /data/note ] || echo "app: the mounted note says $(cat /data/note)"',
    'cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML',
    "[[processes]]",
    'type = "web"',
    'command = ["hello-rt"]',
    'args = ["from", "web"]',
    "default = true",
    "",
    "[[processes]]",
    'type = "worker"',
    'command = ["cat", "/workspace/app.txt"]',
    "TOML",
    "",
  ].join("\n"),
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

const build = (engine: EngineName, image: string, app: string, extra: readonly string[] = []) =>
  cnbp(["build", image, "--path", app, "--builder", BUILDER, "--driver", engine, ...extra], { env });

const cli = (engine: EngineName, args: readonly string[]) => execa(engine, args, { reject: false });

/** The image's id as the engine reports it (`sha256:<hex>`), or undefined when it has no such image. */
async function imageId(engine: EngineName, image: string) {
  const r = await cli(engine, ["image", "inspect", "--format", "{{.Id}}", image]);
  if (r.exitCode !== 0) return undefined;
  return r.stdout.startsWith("sha256:") ? r.stdout : `sha256:${r.stdout}`;
}

beforeAll(async () => {
  ({ dir, env } = await cnbpWorkdir("cnbp-build-", FILES));
  await publish("builder create", BUILDER, join(dir, "builder.toml"), env);
});

afterAll(async () => {
  for (const engine of ENGINES) {
    await removeImages(engine, [...["app", "failing", "slow"].map((n) => appImage(engine, n)), BUILDER]);
    await removeCacheVolumes(engine, [appImage(engine)]);
  }
  await rm(dir, { recursive: true, force: true });
});

describe.each(ENGINES)("cnbp build --driver %s", (engine) => {
  const APP_IMAGE = appImage(engine);
  let app: string;
  let firstId: string;

  it("builds an image into Podman's store whose processes run", async () => {
    app = await writeApp(dir, `${engine}-app`, { "app.txt": "the app's own file\n" });
    const r = await build(engine, APP_IMAGE, app, ["--env", "MODE=fast"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("runtime: installing");
    expect(lines).toContain("app: building with MODE=fast");
    // the builder is new to the store: cnbp says it pulls it (the run image may be there already)
    expect(
      lines
        .filter((l) => l.startsWith(`[cnbp] pull`) && l.includes(BUILDER))
        .map((l) => l.replace(/ in [\d.]+ s$/, "")),
    ).toEqual([`[cnbp] pulling ${BUILDER}`, `[cnbp] pulled ${BUILDER}`]);
    expect(
      lines
        .filter((l) => l.startsWith("[cnbp] ") && l.includes(" done in "))
        .map((l) => l.replace(/ in [\d.]+ s$/, "")),
    ).toEqual([
      "[cnbp] analyze done",
      "[cnbp] detect done",
      "[cnbp] restore done",
      "[cnbp] build done",
      "[cnbp] export done",
    ]);
    const last = lines.filter(Boolean).at(-1) ?? "";
    const built =
      /^Built (\S+) \((sha256:[0-9a-f]{64})\), in (\w+)'s image store, in [\d.]+ s \([\d.]+ s of it cnbp's own\)$/.exec(
        last,
      );
    expect(built?.slice(1, 4), last).toEqual([APP_IMAGE, expect.any(String), engine]);
    firstId = built?.[2] as string;
    expect(await imageId(engine, APP_IMAGE)).toBe(firstId);
    expect(await cli(engine, ["run", "--rm", APP_IMAGE])).toMatchObject({
      exitCode: 0,
      stdout: "runtime says hello from web",
    });
    expect(
      await cli(engine, ["run", "--rm", "--entrypoint", "/cnb/process/worker", APP_IMAGE]),
    ).toMatchObject({
      exitCode: 0,
      stdout: "the app's own file",
    });
    expect(await leftovers(engine, APP_IMAGE)).toEqual({ containers: [], volumes: [] });
  });

  it("rebuilds from the cache, reusing every layer, into the same image", async () => {
    const r = await build(engine, APP_IMAGE, app, ["--env", "MODE=fast", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("runtime: kept from the cache");
    expect(r.stderr).toContain("Reusing layer 'ex/runtime:rt'");
    expect(r.stderr).toContain("Reusing 1/1 app layer(s)");
    expect(r.stderr).not.toContain("Adding layer");
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      image: APP_IMAGE,
      id: firstId,
      published: false,
      builder: BUILDER,
      runImage: inRegistry(STACKS.busybox.run),
      platformApi: "0.15",
      driver: engine,
    });
    expect(report.phases.map((p: { phase: string }) => p.phase)).toEqual([
      "analyze",
      "detect",
      "restore",
      "build",
      "export",
    ]);
  });

  it("re-exports only the app layer after a source change", async () => {
    await writeFile(join(app, "app.txt"), "changed\n");
    const r = await build(engine, APP_IMAGE, app, ["--trust-builder"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("Reusing layer 'ex/runtime:rt'");
    expect(lines).toContain("Adding 1/1 app layer(s)");
    expect(lines.filter((l) => l.startsWith("Adding layer"))).toEqual([]);
    expect(
      await cli(engine, ["run", "--rm", "--entrypoint", "/cnb/process/worker", APP_IMAGE]),
    ).toMatchObject({
      stdout: "changed",
    });
  });

  it("publishes to the registry with --publish", async () => {
    const image = `${REGISTRY}/cnbp-test/${RUN_ID}/${engine}-published:1`;
    const r = await build(engine, image, app, ["--publish", "--network", "host", "--trust-builder"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).at(-1)).toMatch(
      new RegExp(`^Built ${image.replace(/[.:/]/g, "\\$&")}, pushed to its registry, in [\\d.]+ s`),
    );
    const tls = engine === "podman" ? ["--tls-verify=false"] : [];
    const pulled = await cli(engine, ["run", "--rm", ...tls, "--pull", "always", image]);
    expect(pulled).toMatchObject({ exitCode: 0, stdout: "runtime says hello from web" });
    await cli(engine, ["rmi", "-f", image]);
  });

  it("stops at a failing buildpack with the phase named, leaving no container or volume", async () => {
    const failing = await writeApp(dir, `${engine}-failing`, { "app.txt": "x", "fail.txt": "" });
    const image = appImage(engine, "failing");
    const r = await build(engine, image, failing);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("app: fail.txt says to fail");
    expect(r.stderr.split("\n").slice(-3)).toEqual([
      "ERROR: builder: buildpack ex/app@1.0.0: bin/build failed with exit code 7",
      "error: build failed in the builder phase: a buildpack's build failed (exit code 51)",
      "  hint: the buildpack output above says what went wrong",
    ]);
    expect(await imageId(engine, image)).toBeUndefined();
    expect(await leftovers(engine, image)).toEqual({ containers: [], volumes: [] });
  });

  it("stops on Ctrl-C, removing the running container and the build's volumes", async () => {
    const slow = await writeApp(dir, `${engine}-slow`, { "app.txt": "x", "slow.txt": "" });
    const image = appImage(engine, "slow");
    const child = execa(
      process.execPath,
      [CLI, "build", image, "--path", slow, "--builder", BUILDER, "--driver", engine],
      // cnbp gets all the time it needs to clean up: no SIGKILL after execa's default 5 s
      { env, reject: false, forceKillAfterDelay: false },
    );
    // the marker, or the build's end when it fails before it (then the assertions below say why)
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("app: sleeping")) resolve();
      });
      void child.finally(() => resolve());
    });
    const sent = performance.now();
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error: build cancelled in the builder phase");
    expect(performance.now() - sent).toBeLessThan(30_000);
    expect(await imageId(engine, image)).toBeUndefined();
    expect(await leftovers(engine, image)).toEqual({ containers: [], volumes: [] });
  });
});

describe("cnbp build: flags that shape the build (Podman)", () => {
  it("takes --env-file, a --volume, --run-image and --default-process", async () => {
    const app = await writeApp(dir, "flags", { "app.txt": "flags app\n" });
    const data = join(dir, "data");
    await mkdir(data, { recursive: true });
    await writeFile(join(data, "note"), "mounted");
    await writeFile(join(dir, "build.env"), "# comment\nMODE=from-file\n\n");
    const image = appImage("podman", "flags");
    const r = await build("podman", image, app, [
      ...["--env-file", join(dir, "build.env"), "--volume", `${data}:/data:ro`],
      ...["--run-image", STACKS.busybox.run, "--default-process", "worker", "--json"],
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("app: building with MODE=from-file");
    expect(r.stderr).toContain("app: the mounted note says mounted");
    expect(JSON.parse(r.stdout)).toMatchObject({ image, runImage: STACKS.busybox.run });
    expect(await cli("podman", ["run", "--rm", image])).toMatchObject({ exitCode: 0, stdout: "flags app" });
    await cli("podman", ["rmi", "-f", image]);
  });

  it("keeps the cache in a registry image with --cache-image", async () => {
    const app = await writeApp(dir, "cache-image", { "app.txt": "x" });
    const image = `${REGISTRY}/cnbp-test/${RUN_ID}/cache-image-app:1`;
    const cacheImage = `${REGISTRY}/cnbp-test/${RUN_ID}/cache-image-app-cache:1`;
    const args = ["--publish", "--network", "host", "--trust-builder", "--cache-image", cacheImage];
    const first = await build("podman", image, app, args);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout.split("\n")).toContain("runtime: installing");
    const again = await build("podman", image, app, args);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout.split("\n")).toContain("runtime: kept from the cache");
  });

  it("refuses a run image for another platform before any container starts", async () => {
    const arm = `localhost/cnbp-test/${RUN_ID}/arm64-run:1`;
    const rootfs = join(dir, "arm-rootfs.tar");
    await execa("tar", ["-cf", rootfs, "-T", "/dev/null"]);
    await execa("podman", ["import", "--arch", "arm64", rootfs, arm]);
    const app = await writeApp(dir, "arm", { "app.txt": "x" });
    const r = await build("podman", appImage("podman", "arm"), app, ["--run-image", arm]);
    expect(r).toMatchObject({
      exitCode: 1,
      stderr: `error: run image ${arm} is for linux/arm64, but builder ${BUILDER} builds for linux/amd64\n  hint: choose a run image for the builder's platform with --run-image`,
    });
    expect(await leftovers("podman", appImage("podman", "arm"))).toEqual({ containers: [], volumes: [] });
    await cli("podman", ["rmi", "-f", arm]);
  });

  // (a missing --env-file is not asserted: Node 20 itself reads --env-file anywhere on its command line and
  // exits 9 before cnbp starts; Node 22 leaves it to cnbp)
  it("says what is wrong with --env, --volume and --cache-image", async () => {
    const app = await writeApp(dir, "bad-flags", { "app.txt": "x" });
    const bad = async (extra: string[]) => {
      const r = await build("podman", "x", app, extra);
      return { exitCode: r.exitCode, stderr: r.stderr };
    };
    expect(await bad(["--env", "1X=y"])).toEqual({
      exitCode: 2,
      stderr:
        'error: build: --env "1X=y": "1X" is not a variable name\n  hint: names are letters, digits and _, not starting with a digit',
    });
    expect(await bad(["--env", "CNBP_SURELY_UNSET_VAR"])).toEqual({
      exitCode: 2,
      stderr:
        "error: build: --env CNBP_SURELY_UNSET_VAR takes its value from your environment, where it is not set\n  hint: give it as --env CNBP_SURELY_UNSET_VAR=<value>, or export CNBP_SURELY_UNSET_VAR",
    });
    expect(await bad(["--volume", "relative:/data"])).toEqual({
      exitCode: 2,
      stderr:
        'error: build: --volume "relative:/data" is not <host dir>:<container dir>[:ro|rw]\n  hint: both paths are absolute, e.g. --volume /srv/data:/data:ro',
    });
    expect(await bad(["--cache-image", `${REGISTRY}/x/cache:1`])).toEqual({
      exitCode: 2,
      stderr: "error: build: --cache-image needs --publish (the cache image goes to a registry)",
    });
  });
});

describe("cnbp build: bad input", () => {
  it("names a missing builder", async () => {
    const app = await writeApp(dir, "bad-builder", { "app.txt": "x" });
    const r = await cnbp(
      [
        "build",
        "x",
        "--path",
        app,
        "--builder",
        "localhost/cnbp-test/no-such-builder:1",
        "--driver",
        "podman",
        "--pull-policy",
        "never",
      ],
      { env },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe(
      'error: builder localhost/cnbp-test/no-such-builder:1 was not found (driver podman: images.pull: no image "localhost/cnbp-test/no-such-builder:1")',
    );
    expect(r.stderr).toContain("  hint: --pull-policy never only looks in the driver's image store");
  });

  it("names an app directory that does not exist", async () => {
    const r = await cnbp(["build", "x", "--path", join(dir, "nowhere"), "--builder", BUILDER], { env });
    expect(r).toMatchObject({
      exitCode: 1,
      stderr: `error: app directory ${join(dir, "nowhere")} does not exist or is not a directory\n  hint: give the app's source directory with --path (default: the current directory)`,
    });
  });

  it("names the project.toml field that does not validate", async () => {
    const app = await writeApp(dir, "bad-project", {
      "app.txt": "x",
      "project.toml": '[_]\nschema-version = "0.2"\n[io.buildpacks]\ninclude = ["a"]\nexclude = ["b"]\n',
    });
    const r = await build("podman", "x", app);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(join(app, "project.toml"));
    expect(r.stderr).toContain("has both include and exclude: give one");
  });

  it("checks that the registry takes the image before building when publishing", async () => {
    const app = await writeApp(dir, "push-check", { "app.txt": "x" });
    // a registry that asks for credentials cnbp does not have
    const server = createServer((_req, res) => {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"', "Content-Type": "application/json" });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const denied = await build("podman", `127.0.0.1:${port}/team/app:1`, app, ["--publish"]);
      expect(denied).toMatchObject({
        exitCode: 1,
        stderr: `error: the registry refuses pushes to 127.0.0.1:${port}/team/app\n  hint: log in to it (cnbp reads your docker config and credential helpers), or choose a repository you may push to`,
      });
    } finally {
      server.close();
    }
    const unreachable = await build("podman", `127.0.0.1:${port}/team/app:1`, app, ["--publish"]);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(
      new RegExp(`^error: cannot reach the registry of 127\\.0\\.0\\.1:${port}/team/app:1: `),
    );
    expect(unreachable.stderr).toContain(
      "  hint: without --publish the image goes to the driver's image store",
    );
  });

  it("says when no builder is given and how to give one", async () => {
    const app = await writeApp(dir, "no-builder", { "app.txt": "x" });
    const r = await cnbp(["build", "x", "--path", app, "--driver", "podman"], { env });
    expect(r).toMatchObject({
      exitCode: 2,
      stderr:
        "error: build: no builder given\n  hint: give one with --builder, in project.toml ([io.buildpacks] builder), or set a default: `cnbp config set default-builder <image>`",
    });
  });
});
