/**
 * `cnbp cache list|prune` on Podman: two apps built with a builder from `cnbp builder create` leave two cache
 * volumes and two layout repositories; list shows them exactly, prune removes by image, age or all, never a
 * volume that is not a cache nor one a container uses, and --dry-run removes nothing. Podman runs on a storage
 * of the test's own (CONTAINERS_STORAGE_CONF), so pruning every cache touches no one else's.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, inRegistry, REGISTRY, RUN_ID, STACKS } from "#test-utils";

const BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/cache-builder:1`;
const IMAGE = {
  one: `localhost/cnbp-test/${RUN_ID}/cache-one:1`,
  two: `localhost/cnbp-test/${RUN_ID}/cache-two:1`,
};

/** One buildpack with a cached layer, so each cache volume holds something. */
const FILES: Record<string, string> = {
  "bp/cached/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/cached"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/cached/bin/detect": "#!/bin/sh\nexit 0\n",
  "bp/cached/bin/build":
    '#!/bin/sh\nset -eu\nmkdir -p "$CNB_LAYERS_DIR/dep"\necho cached > "$CNB_LAYERS_DIR/dep/file"\nprintf "[types]\\ncache = true\\n" > "$CNB_LAYERS_DIR/dep.toml"\n',
  "builder.toml": [
    '[[buildpacks]]\nuri = "bp/cached"',
    '[[order]]\n[[order.group]]\nid = "ex/cached"\nversion = "1.0.0"',
    `[build]\nimage = "${inRegistry(STACKS.busybox.build)}"`,
    `[run]\n[[run.images]]\nimage = "${inRegistry(STACKS.busybox.run)}"`,
    "",
  ].join("\n"),
  "one/app.txt": "one\n",
  "two/app.txt": "two\n",
};

let dir: string;
let cacheDir: string;
let env: Record<string, string>;
const apps = { one: "", two: "" };

/** Podman on the test's own storage. */
const podman = (args: readonly string[]) => execa("podman", args, { env, reject: false });
const volumeNames = async () =>
  (await podman(["volume", "ls", "--quiet"])).stdout.split("\n").filter(Boolean).sort();
const cache = (args: readonly string[]) => cnbp(["cache", ...args, "--driver", "podman"], { env });

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** The names build.ts gives: the volume keyed by image and app dir, the layout repository by driver and image. */
const volumeOf = (name: "one" | "two") =>
  `cnbp-cache-cache-${name}-${sha256(`${IMAGE[name]}\n${apps[name]}`).slice(0, 12)}`;
const layoutsOf = (name: "one" | "two") =>
  join(cacheDir, "layouts", sha256(`podman\n${IMAGE[name]}`).slice(0, 16));

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** `text` as a whole-output regex in which `<size>` and `<date>` stand for any size and time. */
const pattern = (text: string) =>
  new RegExp(
    `^${escapeRegex(text)
      .replaceAll("<size>", "\\d+(\\.\\d)? (B|kB|MB|GB)")
      .replaceAll("<date>", "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC")}$`,
  );
const du = async (path: string) => Number((await execa("du", ["-s", "-B1", path])).stdout.split("\t")[0]);

const exists = (path: string) =>
  readdir(path).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "cnbp-cache-")));
  cacheDir = join(dir, "cache");
  await writeFile(
    join(dir, "storage.conf"),
    `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/storage/graph"\nrunroot = "${dir}/storage/run"\n`,
  );
  env = {
    ...(process.env as Record<string, string>),
    CNBP_CACHE_DIR: cacheDir,
    CNBP_CONFIG: join(dir, "config.toml"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
  };
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
    if (path.includes("/bin/")) await chmod(join(dir, path), 0o755);
  }
  apps.one = join(dir, "one");
  apps.two = join(dir, "two");
  const made = await cnbp(
    ["builder", "create", BUILDER, "--config", join(dir, "builder.toml"), "--publish"],
    {
      env,
    },
  );
  expect(made.exitCode, made.stderr).toBe(0);
  for (const name of ["one", "two"] as const) {
    const built = await cnbp(
      ["build", IMAGE[name], "--path", apps[name], "--builder", BUILDER, "--driver", "podman"],
      { env },
    );
    expect(built.exitCode, built.stderr).toBe(0);
  }
  // a volume that is not a cache: no prune may touch it
  expect((await podman(["volume", "create", "not-a-cache"])).exitCode).toBe(0);
});

afterAll(async () => {
  if (!dir) return;
  await podman(["system", "reset", "--force"]);
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp cache", () => {
  it("list shows each build's cache volume with its image, app dir, age and layout repository", async () => {
    const r = await cache(["list"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const block = (name: "one" | "two") =>
      [
        volumeOf(name),
        `  image:    ${IMAGE[name]}`,
        `  app:      ${apps[name]}`,
        "  created:  <date>",
        "  size:     (podman does not report it)",
        `  layouts:  ${layoutsOf(name)} (<size>)`,
        "",
      ].join("\n");
    expect(`${r.stdout}\n`).toMatch(
      pattern(`${block("one")}\n${block("two")}\n2 caches on podman, layout repositories <size> on disk\n`),
    );
  });

  it("list --json gives the same caches with exact layout sizes, as du counts them", async () => {
    const started = Date.now();
    const r = await cache(["list", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const caches = JSON.parse(r.stdout) as { createdAt: string }[];
    const expected = async (name: "one" | "two") => ({
      volume: volumeOf(name),
      image: IMAGE[name],
      appDir: apps[name],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      inUse: false,
      layoutRepo: { dir: layoutsOf(name), sizeBytes: await du(layoutsOf(name)) },
    });
    expect(caches).toEqual([await expected("one"), await expected("two")]);
    for (const c of caches) expect(started - Date.parse(c.createdAt)).toBeLessThan(10 * 60_000);
  });

  it("refuses bad durations and choices with exit 2 and exact errors, removing nothing", async () => {
    const hint = "  hint: give a whole number and one unit of s, m, h, d or w, e.g. 12h or 7d\n";
    for (const bad of ["7x", "7", "1.5d", "d"])
      expect(await cache(["prune", "--older-than", bad])).toEqual({
        exitCode: 2,
        stdout: "",
        stderr:
          `error: cache prune: --older-than ${JSON.stringify(bad)} is not a duration\n${hint}`.trimEnd(),
      });
    expect(await cache(["prune"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "error: cache prune: say which caches to remove\n  hint: give --all, --image <name> or --older-than <duration> (e.g. 7d); --dry-run shows what would go",
    });
    expect(await cache(["prune", "--all", "--older-than", "7d"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "error: cache prune: --all removes every cache, so it goes alone\n  hint: drop --all to choose caches with --image and --older-than",
    });
    expect(await cache(["prune", "--image", "Not/Lower"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'error: cache prune: --image "Not/Lower" is not a valid image reference: repository name "Lower" must be lowercase',
    });
    expect(await volumeNames()).toEqual([volumeOf("one"), volumeOf("two"), "not-a-cache"].sort());
  });

  it("--older-than picks caches by age and --dry-run removes nothing", async () => {
    expect(await cache(["prune", "--older-than", "1d"])).toEqual({
      exitCode: 0,
      stdout: "No cache matched: nothing to remove.",
      stderr: "",
    });
    const r = await cache(["prune", "--older-than", "0s", "--dry-run"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}\n`).toMatch(
      pattern(
        [
          `Would remove cache volume ${volumeOf("one")} (${IMAGE.one}, ${apps.one})`,
          `Would remove cache volume ${volumeOf("two")} (${IMAGE.two}, ${apps.two})`,
          `Would remove layout repository ${layoutsOf("one")} (<size>)`,
          `Would remove layout repository ${layoutsOf("two")} (<size>)`,
          "Would remove 2 cache volumes and 2 layout repositories (<size> on disk); nothing was removed (--dry-run).",
          "",
        ].join("\n"),
      ),
    );
    expect(await volumeNames()).toEqual([volumeOf("one"), volumeOf("two"), "not-a-cache"].sort());
    expect([await exists(layoutsOf("one")), await exists(layoutsOf("two"))]).toEqual([true, true]);
  });

  it("prune --image removes exactly that image's cache volume and layout repository", async () => {
    const r = await cache(["prune", "--image", IMAGE.one]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}\n`).toMatch(
      pattern(
        [
          `Removed cache volume ${volumeOf("one")} (${IMAGE.one}, ${apps.one})`,
          `Removed layout repository ${layoutsOf("one")} (<size>)`,
          "Removed 1 cache volume and 1 layout repository (<size> on disk).",
          "",
        ].join("\n"),
      ),
    );
    expect(await volumeNames()).toEqual([volumeOf("two"), "not-a-cache"].sort());
    expect([await exists(layoutsOf("one")), await exists(layoutsOf("two"))]).toEqual([false, true]);
  });

  it("prune --all keeps a cache a container uses, then removes every cache and nothing else", async () => {
    const holder = `cnbp-cache-test-${RUN_ID}`;
    const created = await podman([
      "create",
      "--name",
      holder,
      "--volume",
      `${volumeOf("two")}:/cache`,
      inRegistry(STACKS.busybox.run),
      "true",
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(await cache(["prune", "--all"])).toEqual({
      exitCode: 0,
      stdout: `Kept cache volume ${volumeOf("two")}: a container uses it (a build may be running on it)\nRemoved 0 cache volumes and 0 layout repositories (0 B on disk).`,
      stderr: "",
    });
    expect((await podman(["rm", holder])).exitCode).toBe(0);
    const r = await cache(["prune", "--all"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}\n`).toMatch(
      pattern(
        [
          `Removed cache volume ${volumeOf("two")} (${IMAGE.two}, ${apps.two})`,
          `Removed layout repository ${layoutsOf("two")} (<size>)`,
          "Removed 1 cache volume and 1 layout repository (<size> on disk).",
          "",
        ].join("\n"),
      ),
    );
    expect(await volumeNames()).toEqual(["not-a-cache"]);
    expect(await readdir(join(cacheDir, "layouts"))).toEqual([]);
    expect(await cache(["list"])).toEqual({ exitCode: 0, stdout: "No build caches on podman.", stderr: "" });
  });
});
