/**
 * The restorer on real files: analyzed.toml, group.toml and a cache made with the cache's own write API,
 * then the exact files left in <layers> for each rule of platform.md 8.3; corrupt and hostile caches; the
 * cache image in the real local registry.
 */

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { analyzedToml, layoutPath, OciLayout, RegistryClient, readSpecFile } from "@cnbp/core";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DirCache } from "../cache/dir-cache.js";
import { ImageCache } from "../cache/image-cache.js";
import {
  captureLog,
  makeLayer,
  rawTar,
  removeTempDirs,
  sha256,
  tempDir,
  tree,
} from "../cache/test-support/fixtures.js";
import { restoreLayers, restorer } from "./restorer.js";

const REGISTRY = "127.0.0.1:5000";
const BP = "example/node";
const sha = (c: string) => `sha256:${c.repeat(64)}`;

let base: string;
let layers: string;
let cacheDir: string;

beforeEach(async () => {
  base = await tempDir("cnbp-restorer-");
  layers = join(base, "layers");
  cacheDir = join(base, "cache");
  await mkdir(layers);
});
afterAll(removeTempDirs);

const env = (api = "0.15") => ({ CNB_PLATFORM_API: api, CNB_LAYERS_DIR: layers });
const args = (...extra: string[]) => [
  "-analyzed",
  join(base, "analyzed.toml"),
  "-group",
  join(base, "group.toml"),
  ...extra,
];

async function writeGroup(ids: readonly string[] = [BP]) {
  const group = ids.map((id) => `[[group]]\nid = "${id}"\nversion = "1.0.0"\napi = "0.10"\n`).join("\n");
  await writeFile(join(base, "group.toml"), group);
}

/** A layer as it was built last time: its files in <layers>, tarred the way the exporter caches it, then gone. */
async function builtLayer(name: string, files: Record<string, string>) {
  const dir = join(layers, "example_node", name);
  const layer = await makeLayer(dir, files, join(base, "tars", `${name}.tar`));
  await rm(join(layers, "example_node"), { recursive: true, force: true });
  return layer;
}

/**
 * The 8.3 fixture: the previous image's launch layers in analyzed.toml, a committed cache directory, and the
 * SBOMs, one from the cache and one restored by the analyzer from the image.
 */
async function fixture() {
  const same = await builtLayer("same", { "s.txt": "same data" });
  const stale = await builtLayer("stale", { "x.txt": "stale data" });
  const cacheOnly = await builtLayer("cache-only", { "deps/c.txt": "cached deps" });
  const cacheLaunch = await builtLayer("cache-launch", { "l.txt": "launch and cache" });
  const buildOnly = await builtLayer("build-only", { "b.txt": "build, not cache" });
  const sbomDir = join(layers, "sbom", "cache");
  const sbom = await makeLayer(
    sbomDir,
    { "example_node/cache-only/sbom.cdx.json": '{"cache":1}', "other_bp/x/sbom.cdx.json": "{}" },
    join(base, "tars", "sbom.tar"),
  );
  await rm(join(layers, "sbom"), { recursive: true });

  await writeGroup();
  await writeFile(
    join(base, "analyzed.toml"),
    `[run-image]
reference = "r@${sha("9")}"
[run-image.target]
os = "linux"

[[metadata.buildpacks]]
key = "${BP}"
version = "1.0.0"
[metadata.buildpacks.layers.launch-only]
sha = "${sha("1")}"
launch = true
[metadata.buildpacks.layers.launch-only.metadata]
v = "launch only"
[metadata.buildpacks.layers.launch-build]
sha = "${sha("2")}"
launch = true
build = true
[metadata.buildpacks.layers.same]
sha = "${same.diffId}"
launch = true
cache = true
[metadata.buildpacks.layers.same.metadata]
v = "same, from the image"
[metadata.buildpacks.layers.stale]
sha = "${sha("3")}"
launch = true
cache = true
[metadata.buildpacks.layers.not-cached]
sha = "${sha("4")}"
launch = true
cache = true
[metadata.buildpacks.store.metadata]
hash = "abc"

[[metadata.buildpacks]]
key = "example/not-in-group"
version = "1.0.0"
[metadata.buildpacks.layers.x]
sha = "${sha("5")}"
launch = true
[metadata.buildpacks.store.metadata]
y = 1
`,
  );
  const layer = (diffId: string, flags: object, data: object) => ({ sha: diffId, data, ...flags });
  const metadata = {
    sbom: { sha: sbom.diffId },
    buildpacks: [
      {
        key: BP,
        version: "1.0.0",
        layers: {
          same: layer(same.diffId, { launch: true, cache: true }, { v: "same, from the cache" }),
          stale: layer(stale.diffId, { launch: true, cache: true }, { v: "stale" }),
          "cache-only": layer(cacheOnly.diffId, { cache: true }, { v: "cache only" }),
          "cache-launch": layer(cacheLaunch.diffId, { launch: true, cache: true }, { v: "cache launch" }),
          "build-only": layer(buildOnly.diffId, { build: true, cache: false }, { v: "build only" }),
        },
      },
    ],
  };
  const cache = await DirCache.open(cacheDir, captureLog().log);
  for (const [key, l] of [
    ["same", same],
    ["stale", stale],
    ["cache-only", cacheOnly],
    ["cache-launch", cacheLaunch],
    ["build-only", buildOnly],
    ["sbom", sbom],
  ] as const) {
    await cache.add(`${BP}:${key}`, l.tarPath, l.diffId);
  }
  await cache.commit(metadata);

  // what the analyzer restored from the previous image
  await mkdir(join(layers, "sbom", "launch", "example_node", "launch-only"), { recursive: true });
  await writeFile(join(layers, "sbom", "launch", "example_node", "launch-only", "sbom.spdx.json"), '{"l":1}');
  return { same, cacheOnly, cacheLaunch, metadata };
}

/** What every 0.14+ restore of the fixture leaves, each line a rule of 8.3. */
const RESTORED: Record<string, string> = {
  "example_node/": "",
  // cached and not launch: metadata and data from the cache
  "example_node/cache-only/": "",
  "example_node/cache-only/deps/": "",
  "example_node/cache-only/deps/c.txt": "cached deps",
  "example_node/cache-only.toml": '[metadata]\nv = "cache only"\n',
  "example_node/cache-only.sbom.cdx.json": '{"cache":1}',
  // launch and cache, but not in the image (0.14+): from the cache
  "example_node/cache-launch/": "",
  "example_node/cache-launch/l.txt": "launch and cache",
  "example_node/cache-launch.toml": '[metadata]\nv = "cache launch"\n',
  // launch only: metadata from the image, no data (the exporter reuses the image's layer)
  "example_node/launch-only.toml": '[metadata]\nv = "launch only"\n',
  "example_node/launch-only.sbom.spdx.json": '{"l":1}',
  // launch and cache with the same sha: metadata from the image, data from the cache
  "example_node/same/": "",
  "example_node/same/s.txt": "same data",
  "example_node/same.toml": '[metadata]\nv = "same, from the image"\n',
  // store.toml of the group's buildpacks only
  "example_node/store.toml": '[metadata]\nhash = "abc"\n',
  // not there: launch-build (build, not cache), stale (sha differs: deleted), not-cached (image says cache,
  // the cache lacks it), build-only (not cache), the buildpack not in the group, and <layers>/sbom
};

describe("restorer", () => {
  it("restores metadata and data by the rules of 8.3", async () => {
    await fixture();
    await restorer(args("-cache-dir", cacheDir), env());
    expect(await tree(layers)).toEqual(RESTORED);
    // the cache is read, not changed
    expect((await DirCache.open(cacheDir, captureLog().log)).found).toBe(true);
  });

  it("before Platform 0.14 takes launch layers only from the image", async () => {
    await fixture();
    await restorer(args("-cache-dir", cacheDir), env("0.13"));
    const expected = { ...RESTORED };
    for (const key of Object.keys(expected)) if (key.includes("cache-launch")) delete expected[key];
    expect(await tree(layers)).toEqual(expected);
  });

  it("restores only store.toml with -skip-layers", async () => {
    await fixture();
    await restorer(args("-cache-dir", cacheDir, "-skip-layers"), env());
    expect(await tree(layers)).toEqual({
      "example_node/": "",
      "example_node/store.toml": '[metadata]\nhash = "abc"\n',
      // the analyzer's launch SBOMs are left alone too
      "sbom/": "",
      "sbom/launch/": "",
      "sbom/launch/example_node/": "",
      "sbom/launch/example_node/launch-only/": "",
      "sbom/launch/example_node/launch-only/sbom.spdx.json": '{"l":1}',
    });
  });

  it("without a cache restores launch-only metadata and the launch SBOMs", async () => {
    await fixture();
    await restorer(args(), env());
    expect(await tree(layers)).toEqual({
      "example_node/": "",
      "example_node/launch-only.toml": '[metadata]\nv = "launch only"\n',
      "example_node/launch-only.sbom.spdx.json": '{"l":1}',
      "example_node/store.toml": '[metadata]\nhash = "abc"\n',
    });
  });

  it("ignores a corrupt cache with a warning: a corrupt layer is removed, corrupt metadata means no cache", async () => {
    const { same } = await fixture();
    const blob = join(cacheDir, "committed", `${same.diffId}.tar`);
    const bytes = await readFile(blob);
    bytes[bytes.indexOf("same data")] = "S".charCodeAt(0);
    await writeFile(blob, bytes);
    const { log, err } = captureLog();
    await restoreLayers({
      layersDir: layers,
      platformApi: "0.15",
      buildpacks: [{ id: BP, version: "1.0.0", api: "0.10" }],
      appMetadata: (await readSpecFile(analyzedToml, join(base, "analyzed.toml"))).metadata,
      cache: await DirCache.open(cacheDir, log),
      skipLayers: false,
      owner: undefined,
      log,
    });
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      new RegExp(
        `^Warning: cache directory ${cacheDir}: cached layer example/node:same \\(${same.diffId}\\) is corrupt: its content has diffID sha256:[a-f0-9]{64}: not restoring it$`,
      ),
    );
    const expected = { ...RESTORED };
    for (const key of Object.keys(expected)) if (key.startsWith("example_node/same")) delete expected[key];
    expect(await tree(layers)).toEqual(expected);

    // metadata that is not JSON: nothing comes from the cache
    await rm(layers, { recursive: true });
    await mkdir(layers);
    await writeFile(join(cacheDir, "committed", "io.buildpacks.lifecycle.cache.metadata"), "[");
    await restorer(args("-cache-dir", cacheDir), env());
    expect(await tree(layers)).toEqual({
      "example_node/": "",
      "example_node/launch-only.toml": '[metadata]\nv = "launch only"\n',
      "example_node/store.toml": '[metadata]\nhash = "abc"\n',
    });
  });

  it("refuses a cached layer with an entry that climbs out of it, with exit code 42", async () => {
    await writeGroup();
    await writeFile(join(base, "analyzed.toml"), "");
    const evil = join(layers, "example_node", "evil");
    const bytes = rawTar([
      { name: `${evil}/`, type: "directory" },
      { name: `${evil}/ok.txt`, content: "fine" },
      { name: `${evil}/../../../escaped.txt`, content: "gotcha" },
    ]);
    await writeFile(join(base, "evil.tar"), bytes);
    const cache = await DirCache.open(cacheDir, captureLog().log);
    await cache.add(`${BP}:evil`, join(base, "evil.tar"), sha256(bytes));
    await cache.commit({
      buildpacks: [
        { key: BP, version: "1.0.0", layers: { evil: { sha: sha256(bytes), data: {}, cache: true } } },
      ],
    });
    await expect(restorer(args("-cache-dir", cacheDir), env())).rejects.toMatchObject({
      exitCode: 42,
      message: `restorer: refusing the cached layer ${BP}:evil: layer ${BP}:evil from the cache directory ${cacheDir}: refused entry "${evil}/../../../escaped.txt": path has a ".." component`,
    });
    await expect(stat(join(base, "escaped.txt"))).rejects.toThrow();
    expect(await tree(layers)).toEqual({ "example_node/": "" });
  });

  // needs root, as the engines do (our CI runs as root)
  it("gives what it writes to -uid/-gid", async () => {
    const { metadata } = await fixture();
    const owner = { uid: 4321, gid: 4322 };
    await restoreLayers({
      layersDir: layers,
      platformApi: "0.15",
      buildpacks: [{ id: BP, version: "1.0.0", api: "0.10" }],
      appMetadata: {
        buildpacks: [{ key: BP, version: "1.0.0", store: { metadata: { a: 1 } } }],
      },
      cache: await DirCache.open(cacheDir, captureLog().log),
      skipLayers: false,
      owner,
      log: captureLog().log,
    });
    expect(Object.keys(metadata.buildpacks[0]?.layers ?? {})).toContain("cache-only");
    for (const path of [
      "example_node",
      "example_node/store.toml",
      "example_node/cache-only.toml",
      "example_node/cache-only",
      "example_node/cache-only/deps/c.txt",
      "example_node/cache-only.sbom.cdx.json",
    ]) {
      const st = await stat(join(layers, path));
      expect([path, st.uid, st.gid]).toEqual([path, owner.uid, owner.gid]);
    }
  });

  it("restores from a cache image", async () => {
    const name = `${REGISTRY}/cnbp-test/${randomBytes(6).toString("hex")}/cache:1`;
    const client = new RegistryClient();
    const deps = await builtLayer("deps", { "d.txt": "from the registry" });
    await writeGroup();
    await writeFile(join(base, "analyzed.toml"), "");
    const cache = await ImageCache.open(name, client, captureLog().log);
    await cache.add(`${BP}:deps`, deps.tarPath, deps.diffId);
    await cache.commit({
      buildpacks: [
        { key: BP, version: "1.0.0", layers: { deps: { sha: deps.diffId, data: null, cache: true } } },
      ],
    });
    await restorer(args("-cache-image", name), env());
    expect(await tree(layers)).toEqual({
      "example_node/": "",
      "example_node/deps/": "",
      "example_node/deps/d.txt": "from the registry",
      "example_node/deps.toml": "",
    });
  });

  it("fails clearly on what it cannot do and on bad input", async () => {
    await writeGroup();
    await expect(restorer(args("-daemon"), env())).rejects.toMatchObject({
      exitCode: 42,
      message:
        "restorer: -daemon is not supported by cnbp's lifecycle yet: use a registry, or an OCI layout with -layout",
    });
    await expect(restorer(args("-run", "/cnb/run.toml"), env("0.13"))).rejects.toMatchObject({
      exitCode: 3,
      message: "restorer: flag provided but not defined: -run",
    });
    await expect(restorer(args("image"), env())).rejects.toMatchObject({
      exitCode: 3,
      message: "restorer: expected no arguments, got image",
    });
    await expect(restorer(args("-uid", "me"), env())).rejects.toMatchObject({
      exitCode: 3,
      message: 'restorer: -uid: "me" is not a numeric id',
    });
    await rm(join(base, "group.toml"));
    await expect(restorer(args(), env())).rejects.toMatchObject({
      exitCode: 42,
      message: `restorer: reading the group: ${join(base, "group.toml")} does not exist`,
    });
    await writeFile(join(base, "group.toml"), '[[group]]\nid = "old/bp"\nversion = "1"\napi = "0.6"\n');
    await expect(restorer(args(), env())).rejects.toMatchObject({
      exitCode: 12,
      message: `restorer: buildpack old/bp@1 uses Buildpack API 0.6 (api in ${join(base, "group.toml")}), which this lifecycle does not support (it supports 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)`,
    });
  });
});

describe("restorer: the run image of a group with extensions", () => {
  const RUN = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
  const OTHER = `${REGISTRY}/cnbp-stacks/busybox-build:latest`;
  const client = new RegistryClient();
  const TARGET = {
    id: "io.cnbp.stacks.busybox-1.35.0",
    os: "linux",
    arch: "amd64",
    distro: { name: "busybox", version: "1.35.0" },
  };
  const digestRef = async (name: string) =>
    `${name.slice(0, name.lastIndexOf(":"))}@${(await client.headManifest(name))?.digest}`;
  const analyzedPath = () => join(base, "analyzed.toml");
  const readAnalyzed = () => readSpecFile(analyzedToml, analyzedPath());
  const writeExtensionGroup = () =>
    writeFile(
      join(base, "group.toml"),
      `[[group]]\nid = "${BP}"\nversion = "1.0.0"\napi = "0.10"\n\n[[group-extensions]]\nid = "example/ext"\nversion = "1.0.0"\napi = "0.10"\n`,
    );

  it("pins a run image to be extended by digest and fills its target", async () => {
    await writeExtensionGroup();
    await writeFile(
      analyzedPath(),
      `[image]\nreference = ""\n[run-image]\nreference = "${RUN}"\nimage = "${RUN}"\nextend = true\n`,
    );
    await restorer(args(), env());
    expect(await readAnalyzed()).toEqual({
      image: { reference: "" },
      "run-image": { reference: await digestRef(RUN), image: RUN, extend: true, target: TARGET },
    });
  });

  it("looks up a run image that an extension switched to (target empty), run.toml or not", async () => {
    await writeExtensionGroup();
    await writeFile(analyzedPath(), `[run-image]\nreference = "${OTHER}"\nimage = "${OTHER}"\n`);
    const runToml = join(base, "run.toml");
    await writeFile(runToml, `[[images]]\nimage = "${RUN}"\n`);
    await restorer(args("-run", runToml), env());
    expect(await readAnalyzed()).toEqual({
      "run-image": { reference: await digestRef(OTHER), image: OTHER, target: TARGET },
    });
  });

  it("leaves analyzed.toml as it is when nothing is extended or switched", async () => {
    const text = `[run-image]\nreference = "${OTHER}"\nimage = "${OTHER}"\n[run-image.target]\nos = "linux"\n`;
    await writeExtensionGroup();
    await writeFile(analyzedPath(), text);
    await restorer(args(), env());
    expect(await readFile(analyzedPath(), "utf8")).toBe(text);
    // no extensions: an empty target is the analyzer's business, not the restorer's
    await writeGroup();
    await writeFile(analyzedPath(), `[run-image]\nreference = "${OTHER}"\n`);
    await restorer(args(), env());
    expect(await readFile(analyzedPath(), "utf8")).toBe(`[run-image]\nreference = "${OTHER}"\n`);
  });

  it("in layout mode, resolves a name in the layout repository and a recorded layout path", async () => {
    const root = join(base, "layout-repo");
    const name = "reg.example/cnbp/run:1";
    await mkdir(layoutPath(root, name), { recursive: true });
    await promisify(execFile)("skopeo", [
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${RUN}`,
      `oci:${layoutPath(root, name)}`,
    ]);
    const layout = await OciLayout.open(layoutPath(root, name));
    const recorded = `${layoutPath(root, name)}@${(await layout.readImage()).descriptor.digest}`;
    await writeExtensionGroup();
    // switched: the name
    await writeFile(analyzedPath(), `[run-image]\nreference = "${name}"\nimage = "${name}"\n`);
    await restorer(args("-layout", "-layout-dir", root), env());
    expect(await readAnalyzed()).toEqual({
      "run-image": { reference: recorded, image: name, target: TARGET },
    });
    // extended: what the analyzer recorded stays, and the target is filled
    await writeFile(
      analyzedPath(),
      `[run-image]\nreference = "${recorded}"\nimage = "${name}"\nextend = true\n`,
    );
    await restorer(args(), { ...env(), CNB_USE_LAYOUT: "true", CNB_LAYOUT_DIR: root });
    expect(await readAnalyzed()).toEqual({
      "run-image": { reference: recorded, image: name, extend: true, target: TARGET },
    });
  });

  it("fails clearly on a run image it cannot find or name, and leaves analyzed.toml as it was", async () => {
    await writeExtensionGroup();
    const cases: [string, string[], number, string][] = [
      [
        `${REGISTRY}/cnbp-test/no-such-run:1`,
        [],
        42,
        `restorer: run image ${REGISTRY}/cnbp-test/no-such-run:1 (run-image.reference in ${analyzedPath()}) was not found: check the name and the credentials for its registry`,
      ],
      [
        "Bad:1",
        [],
        42,
        `restorer: run-image.reference in ${analyzedPath()}: "Bad:1" is not a valid image reference: repository name "Bad" must be lowercase`,
      ],
      [
        "reg.example/missing:1",
        ["-layout", "-layout-dir", join(base, "empty-repo")],
        42,
        `restorer: run image reg.example/missing:1 (run-image.reference in ${analyzedPath()}) was not found: no OCI layout holds it at ${join(base, "empty-repo", "reg.example", "missing", "1")}`,
      ],
      ["reg.example/missing:1", ["-layout"], 3, "restorer: -layout needs -layout-dir (or CNB_LAYOUT_DIR)"],
    ];
    for (const [reference, extra, exitCode, message] of cases) {
      const text = `[run-image]\nreference = "${reference}"\nextend = true\n`;
      await writeFile(analyzedPath(), text);
      await expect(restorer(args(...extra), env())).rejects.toMatchObject({ exitCode, message });
      expect(await readFile(analyzedPath(), "utf8")).toBe(text);
    }
  });
});
