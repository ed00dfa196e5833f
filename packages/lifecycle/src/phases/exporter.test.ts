/**
 * The exporter against the real local registry (and OCI layouts): a layers dir set up as the builder leaves
 * it, analyzed.toml from the real analyzer, the image checked in the registry (config, labels, layer order,
 * history) and run with podman; rebuilds measured in bytes sent.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ImageConfig,
  layoutPath,
  Manifest,
  OciLayout,
  parseSpec,
  RegistryClient,
  readLayer,
  reportToml,
} from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globMatcher, sliceAppDir } from "../export/app-slices.js";
import { LAUNCHER_RECORD, recordLauncherLayer } from "../export/launcher-record.js";
import { LayerFactory } from "../export/layer-factory.js";
import { launcherParts } from "../export/lifecycle-layers.js";
import { analyzer } from "./analyzer.js";
import { type ExportResult, exporter, exportImage } from "./exporter.js";

const run = promisify(execFile);
const REGISTRY = "127.0.0.1:5000";
const RUN_IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const RUN_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const ns = `${REGISTRY}/cnbp-test/${randomBytes(6).toString("hex")}`;
const IMAGE = `${ns}/app:1`;
const client = new RegistryClient();

let dir: string;
let layers: string;
let app: string;
let launcher: string;
let runTomlPath: string;

const env = (extra: Record<string, string> = {}) => ({
  CNB_PLATFORM_API: "0.15",
  CNB_LAYERS_DIR: layers,
  CNB_APP_DIR: app,
  CNB_USER_ID: "0",
  CNB_GROUP_ID: "0",
  CNB_LOG_LEVEL: "warn",
  ...extra,
});
const analyze = (image: string, extra: string[] = []) =>
  analyzer(["-run", runTomlPath, ...extra, image], env());
const exportTo = (args: string[], extra: Record<string, string> = {}) =>
  exportImage(["-run", runTomlPath, "-launcher", launcher, ...args], env(extra));

async function pullConfig(name: string) {
  const fetched = await client.getManifest(name);
  const manifest = Manifest.parse(JSON.parse(fetched.bytes.toString()));
  const config = ImageConfig.parse(JSON.parse((await client.getBlob(name, manifest.config)).toString()));
  return { digest: fetched.digest, manifest, config };
}

async function podman(...args: string[]): Promise<string> {
  const { stdout } = await run("podman", args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function writeFiles(root: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-exporter-"));
  // the run image's user (1001) must be able to reach /layers and the app through this dir
  await chmod(dir, 0o755);
  layers = join(dir, "layers");
  app = join(dir, "workspace");
  launcher = join(dir, "launcher");
  runTomlPath = join(dir, "run.toml");
  await copyFile("/bin/busybox", launcher);
  await chmod(launcher, 0o700);
  await writeFile(runTomlPath, `[[images]]\nimage = "${RUN_IMAGE}"\nmirrors = ["mirror.example/run:1"]\n`);
  await writeFiles(layers, {
    "group.toml":
      '[[group]]\nid = "examples/node"\nversion = "1.0.0"\napi = "0.10"\n\n[[group]]\nid = "examples/web"\nversion = "2.0.0"\napi = "0.10"\n',
    "examples_node/node.toml": '[types]\nlaunch = true\n[metadata]\nversion = "20.11.0"\n',
    "examples_node/node/bin/node": "#!/bin/sh\necho node\n",
    "examples_node/deps.toml": "[types]\nlaunch = true\ncache = true\n",
    "examples_node/deps/lib/a.js": "module.exports = 1\n",
    "examples_node/tools.toml": "[types]\nbuild = true\n",
    "examples_node/tools/tool": "not exported\n",
    "examples_node/scratch/file": "no toml: not a launch layer\n",
    "examples_node/store.toml": '[metadata]\nlockfile = "abc"\n',
    "examples_web/web.toml": "[types]\nlaunch = true\n",
    "examples_web/web/file": "hello from the web layer\n",
    "sbom/launch/examples_node/node/sbom.cdx.json": '{"bomFormat":"CycloneDX"}\n',
    "config/metadata.toml": [
      'buildpack-default-process-type = "web"',
      "",
      "[[buildpacks]]",
      'id = "examples/node"',
      'version = "1.0.0"',
      'api = "0.10"',
      'homepage = "https://example.com/node"',
      "",
      "[[buildpacks]]",
      'id = "examples/web"',
      'version = "2.0.0"',
      'api = "0.10"',
      "",
      "[[labels]]",
      'key = "org.example.team"',
      'value = "web"',
      "",
      "[[processes]]",
      'type = "web"',
      'command = ["node", "server.js"]',
      'args = ["--port", "8080"]',
      "direct = true",
      'buildpack-id = "examples/web"',
      "",
      "[[processes]]",
      'type = "worker"',
      'command = ["node"]',
      "direct = false",
      'buildpack-id = "examples/node"',
      'working-dir = "/workspace/jobs"',
      "",
      "[[slices]]",
      'paths = ["static/*"]',
      "",
    ].join("\n"),
    "project-metadata.toml": '[source]\ntype = "git"\n[source.version]\ncommit = "3f2a9c1"\n',
  });
  await writeFiles(app, {
    "app.txt": "hello from the app\n",
    "static/index.html": "<p>hi</p>\n",
    "static/css/site.css": "p {}\n",
  });
  // host owners that the tar must not keep (contents) and must keep (parents)
  await chown(join(layers, "examples_web", "web", "file"), 4321, 4321);
  await chown(join(layers, "examples_web"), 555, 556);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await podman("rmi", "-f", IMAGE).catch(() => undefined);
});

describe("exporter", () => {
  let first: ExportResult;

  it("writes the app image on the run image: layers, config, labels and history as the spec says", async () => {
    await analyze(IMAGE);
    first = await exportTo([IMAGE, `${ns}/app:latest`]);
    const { digest, manifest, config } = await pullConfig(IMAGE);
    expect(first.digest).toBe(digest);
    expect((await client.headManifest(`${ns}/app:latest`))?.digest).toBe(digest);
    const base = await pullConfig(RUN_IMAGE);

    // layer order: run image, buildpacks (group order, then by layer name), SBOM, slices, launcher, config, processes
    expect(first.layers.map((l) => [l.id, l.createdBy, l.origin])).toEqual([
      ["examples/node:deps", "Layer: 'deps', Created by buildpack: examples/node@1.0.0", "new"],
      ["examples/node:node", "Layer: 'node', Created by buildpack: examples/node@1.0.0", "new"],
      ["examples/web:web", "Layer: 'web', Created by buildpack: examples/web@2.0.0", "new"],
      ["buildpacksio/lifecycle:launch.sbom", "Software Bill-of-Materials", "new"],
      ["slice-1", "Application Slice: 1", "new"],
      ["slice-2", "Application Slice: 2", "new"],
      ["buildpacksio/lifecycle:launcher", "Buildpacks Application Launcher", "new"],
      ["buildpacksio/lifecycle:config", "Buildpacks Launcher Config", "new"],
      ["buildpacksio/lifecycle:process-types", "Buildpacks Process Types", "new"],
    ]);
    const diffIds = first.layers.map((l) => l.diffId);
    expect(config.rootfs.diff_ids).toEqual([...base.config.rootfs.diff_ids, ...diffIds]);
    // base layers are the run image's blobs, untouched and mounted, not uploaded: what was sent is the new
    // layers and the config
    expect(manifest.layers.slice(0, 2)).toEqual(base.manifest.layers);
    const newBytes = first.layers.reduce((n, l) => n + l.bytesWritten, 0);
    expect(first.layers.every((l, i) => l.bytesWritten === manifest.layers[i + 2]?.size)).toBe(true);
    expect(first.bytesWritten).toBe(newBytes + manifest.config.size);
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(
      manifest.layers.slice(2).every((l) => l.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip"),
    ).toBe(true);

    const created = "1980-01-01T00:00:01Z";
    expect(config.created).toBe(created);
    expect(base.config.history).toHaveLength(2);
    expect(config.history).toEqual([
      // the run image's history, kept entry for entry with its times normalized
      ...(base.config.history ?? []).map((h) => ({ ...h, created })),
      ...first.layers.map((l) => ({ created, created_by: l.createdBy })),
    ]);
    const { Labels, ...container } = config.config ?? {};
    expect(container).toEqual({
      User: "1001:1000",
      Env: [
        `PATH=/cnb/process:/cnb/lifecycle:${RUN_PATH_ENV.slice("PATH=".length)}`,
        `CNB_LAYERS_DIR=${layers}`,
        `CNB_APP_DIR=${app}`,
        "CNB_PLATFORM_API=0.15",
        "CNB_DEPRECATION_MODE=quiet",
      ],
      WorkingDir: app,
      Entrypoint: ["/cnb/process/web"],
    });
    const runDigest = base.digest;
    const [deps, node, web, sbom, slice1, slice2, launcherSha, configSha, processTypes] = diffIds;
    const {
      "io.buildpacks.lifecycle.metadata": lifecycle,
      "io.buildpacks.build.metadata": build,
      "io.buildpacks.project.metadata": project,
      ...others
    } = Labels ?? {};
    expect(others).toEqual({
      ...base.config.config?.Labels,
      "org.example.team": "web",
      "io.buildpacks.exec-env": "production",
    });
    expect(JSON.parse(project as string)).toEqual({
      source: { type: "git", version: { commit: "3f2a9c1" } },
    });
    expect(JSON.parse(build as string)).toEqual({
      buildpacks: [
        { id: "examples/node", version: "1.0.0", homepage: "https://example.com/node" },
        { id: "examples/web", version: "2.0.0" },
      ],
      launcher: { version: "0.1.0" },
      processes: [
        {
          type: "web",
          command: ["node", "server.js"],
          args: ["--port", "8080"],
          direct: true,
          buildpackID: "examples/web",
        },
        {
          type: "worker",
          command: ["node"],
          args: null,
          direct: false,
          buildpackID: "examples/node",
          "working-dir": "/workspace/jobs",
        },
      ],
      "buildpack-default-process-type": "web",
    });
    expect(JSON.parse(lifecycle as string)).toEqual({
      app: [{ sha: slice1 }, { sha: slice2 }],
      sbom: { sha: sbom },
      buildpacks: [
        {
          key: "examples/node",
          version: "1.0.0",
          layers: {
            deps: { sha: deps, data: null, build: false, launch: true, cache: true },
            node: { sha: node, data: { version: "20.11.0" }, build: false, launch: true, cache: false },
          },
          store: { metadata: { lockfile: "abc" } },
        },
        {
          key: "examples/web",
          version: "2.0.0",
          layers: { web: { sha: web, data: null, build: false, launch: true, cache: false } },
        },
      ],
      config: { sha: configSha },
      launcher: { sha: launcherSha },
      "process-types": { sha: processTypes },
      runImage: {
        topLayer: base.config.rootfs.diff_ids[1],
        reference: `${REGISTRY}/cnbp-stacks/busybox-run@${runDigest}`,
        image: RUN_IMAGE,
        mirrors: ["mirror.example/run:1"],
      },
      stack: { runImage: { image: RUN_IMAGE, mirrors: ["mirror.example/run:1"] } },
    });

    const report = parseSpec(reportToml, await readFile(join(layers, "report.toml"), "utf8"), "report.toml");
    expect(report.value).toEqual({
      image: { tags: [IMAGE, `${ns}/app:latest`], digest, "manifest-size": first.manifestSize },
    });
  });

  it("runs under podman: files where the spec puts them, contents owned by -uid/-gid, parents as on the host", async () => {
    await podman("pull", "--tls-verify=false", "-q", IMAGE);
    const out = await podman(
      "run",
      "--rm",
      "--entrypoint",
      "/bin/sh",
      IMAGE,
      "-c",
      [
        `cat ${layers}/examples_web/web/file ${app}/app.txt ${app}/static/css/site.css`,
        `ls -ln ${layers}/examples_web/web/file | awk '{print $1, $3, $4}'`,
        `ls -lnd ${layers}/examples_web | awk '{print $3, $4}'`,
        `ls -ln /cnb/process | awk 'NR > 1 {print $1, $3, $4, $9, $10, $11}'`,
        "ls -ln /cnb/lifecycle/launcher | awk '{print $1, $3, $4}'",
        `test -e ${layers}/examples_node/tools && echo tools-exported || echo no-tools`,
        `cat ${layers}/sbom/launch/examples_node/node/sbom.cdx.json`,
        // busybox as the launcher runs, and says it has no applet called like argv[0]
        "/cnb/process/web 2>&1; true",
      ].join("; "),
    );
    expect(out.split("\n")).toEqual([
      "hello from the web layer",
      "hello from the app",
      "p {}",
      "-rw-r--r-- 0 0",
      "555 556",
      "lrwxrwxrwx 0 0 web -> /cnb/lifecycle/launcher",
      "lrwxrwxrwx 0 0 worker -> /cnb/lifecycle/launcher",
      "-rwxr-xr-x 0 0",
      "no-tools",
      '{"bomFormat":"CycloneDX"}',
      "web: applet not found",
      "",
    ]);
  });

  it("re-exports nothing when nothing changed: every layer reused, 0 bytes sent, the same digest", async () => {
    await analyze(IMAGE);
    const again = await exportTo([IMAGE]);
    expect(again.layers.map((l) => l.origin)).toEqual(first.layers.map(() => "reused"));
    expect(again.layers.map((l) => l.diffId)).toEqual(first.layers.map((l) => l.diffId));
    expect(again.bytesWritten).toBe(0);
    expect(again.digest).toBe(first.digest);
  });

  it("adds only the app layer when one app file changed", async () => {
    await writeFile(join(app, "app.txt"), "hello again\n");
    await analyze(IMAGE);
    const changed = await exportTo([IMAGE]);
    const news = changed.layers.filter((l) => l.origin === "new");
    expect(news.map((l) => l.id)).toEqual(["slice-2"]);
    const sent = changed.layers.filter((l) => l.bytesWritten > 0).map((l) => l.id);
    expect(sent).toEqual(["slice-2"]);
    // the layer and the new config are all that is sent
    const slice = changed.layers.find((l) => l.id === "slice-2");
    expect(changed.bytesWritten).toBeGreaterThan(slice?.bytesWritten ?? 0);
    expect(changed.bytesWritten).toBeLessThan((slice?.bytesWritten ?? 0) + 8192);
    expect(changed.digest).not.toBe(first.digest);
  });

  it("reuses a launch layer that has no directory from the previous image, by its recorded sha", async () => {
    const nodeDir = join(layers, "examples_node", "node");
    const kept = join(dir, "node-kept");
    await run("mv", [nodeDir, kept]);
    try {
      await analyze(IMAGE);
      const result = await exportTo([IMAGE]);
      const node = result.layers.find((l) => l.id === "examples/node:node");
      expect(node).toMatchObject({ origin: "reused", diffId: first.layers[1]?.diffId, bytesWritten: 0 });
      const { config } = await pullConfig(IMAGE);
      const label = JSON.parse(config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] as string);
      expect(label.buildpacks[0].layers.node).toEqual({
        sha: first.layers[1]?.diffId,
        data: { version: "20.11.0" },
        build: false,
        launch: true,
        cache: false,
      });
    } finally {
      await run("mv", [kept, nodeDir]);
    }
  });

  it("reuses the launcher layer its record names without reading the runtime: a same-size change goes unseen, a new size does not", async () => {
    const tree = join(dir, "recorded-launcher");
    const treeLauncher = join(tree, "launcher");
    await writeFiles(tree, { "runtime/node": "node v1\n" });
    await copyFile("/bin/busybox", treeLauncher);
    const exportWith = async () => {
      await analyze(IMAGE);
      const result = await exportImage(["-run", runTomlPath, "-launcher", treeLauncher, IMAGE], env());
      return result.layers.find((l) => l.id === "buildpacksio/lifecycle:launcher");
    };
    try {
      const made = await exportWith();
      expect(made?.origin).toBe("new");
      const record = await recordLauncherLayer(treeLauncher);
      expect(record.diffId).toBe(made?.diffId);
      await writeFile(join(tree, LAUNCHER_RECORD), JSON.stringify(record));

      await writeFile(join(tree, "runtime", "node"), "node v2\n");
      expect(await exportWith()).toMatchObject({ origin: "reused", diffId: made?.diffId, bytesWritten: 0 });
      await writeFile(join(tree, "runtime", "node"), "node v10\n");
      const remade = await exportWith();
      expect(remade?.origin).toBe("new");
      expect(remade?.diffId).not.toBe(made?.diffId);
    } finally {
      // the tests below build on the image with the usual launcher
      await analyze(IMAGE);
      await exportTo([IMAGE]);
    }
  });

  it("dates the image by SOURCE_DATE_EPOCH but not the layers, and takes the entrypoint from -process-type", async () => {
    await analyze(IMAGE);
    const dated = await exportTo(["-process-type", "worker", IMAGE], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(dated.layers.every((l) => l.origin === "reused")).toBe(true);
    const { config } = await pullConfig(IMAGE);
    expect(config.created).toBe("2023-11-14T22:13:20Z");
    expect(new Set(config.history?.map((h) => h.created))).toEqual(new Set(["2023-11-14T22:13:20Z"]));
    expect(config.config?.Entrypoint).toEqual(["/cnb/process/worker"]);
  });

  it("writes the cache beside the image with -parallel: the cache=true layer, not launch-only ones", async () => {
    const cacheDir = join(dir, "cache-parallel");
    await analyze(IMAGE);
    const result = await exportTo(["-parallel", "-cache-dir", cacheDir, IMAGE]);
    expect((await client.headManifest(IMAGE))?.digest).toBe(result.digest);
    const deps = result.layers.find((l) => l.id === "examples/node:deps")?.diffId;
    expect(result.cache?.layers).toEqual([
      { key: "examples/node:deps", diffId: deps, how: "added", bytes: expect.any(Number) },
    ]);
    const committed = JSON.parse(
      await readFile(join(cacheDir, "committed", "io.buildpacks.lifecycle.cache.metadata"), "utf8"),
    );
    expect(committed.buildpacks).toEqual([
      {
        key: "examples/node",
        version: "1.0.0",
        layers: { deps: { sha: deps, data: null, build: false, launch: true, cache: true } },
      },
      { key: "examples/web", version: "2.0.0", layers: {} },
    ]);
  });

  it("writes OCI layouts in layout mode, named by tag", async () => {
    const root = join(dir, "layout-root");
    const runImage = "reg.example/cnbp/run:1";
    const runToml = join(dir, "run-layout.toml");
    const analyzed = join(dir, "analyzed-layout.toml");
    const reportPath = join(dir, "report-layout.toml");
    await writeFile(runToml, `[[images]]\nimage = "${runImage}"\n`);
    await mkdir(layoutPath(root, runImage), { recursive: true });
    await run("skopeo", [
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${RUN_IMAGE}`,
      `oci:${layoutPath(root, runImage)}`,
    ]);
    const layoutArgs = ["-layout", "-layout-dir", root, "-run", runToml, "-analyzed", analyzed];
    await analyzer([...layoutArgs, "reg.example/app:1"], env());
    const result = await exportImage(
      [...layoutArgs, "-launcher", launcher, "-report", reportPath, "reg.example/app:1", "reg.example/app:2"],
      env(),
    );
    for (const tag of ["1", "2"]) {
      const layout = await OciLayout.open(layoutPath(root, `reg.example/app:${tag}`));
      const image = await layout.readImage(tag);
      expect(image.ref).toBe(tag);
      expect(image.descriptor.digest).toBe(result.digest);
      expect(await layout.layerPresence(image.manifest)).toEqual(image.manifest.layers.map(() => true));
      expect(image.config.rootfs.diff_ids.slice(2)).toEqual(result.layers.map((l) => l.diffId));
      // new layers are plain tars in a layout: digest = diffID, nothing gzipped
      expect(image.manifest.layers.slice(2)).toEqual(
        result.layers.map((l) => ({
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: l.diffId,
          size: expect.any(Number),
        })),
      );
      const label = JSON.parse(image.config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] as string);
      expect(label.runImage.reference).toMatch(
        new RegExp(`^${layoutPath(root, runImage)}@sha256:[a-f0-9]{64}$`),
      );
      expect(label.runImage.image).toBe(runImage);
    }
    const report = parseSpec(reportToml, await readFile(reportPath, "utf8"), "report.toml");
    expect(report.value?.image.tags).toEqual(["reg.example/app:1", "reg.example/app:2"]);
    // a second export reuses everything from the previous image in the layout
    await analyzer([...layoutArgs, "reg.example/app:1"], env());
    const again = await exportImage(
      [...layoutArgs, "-launcher", launcher, "-report", reportPath, "reg.example/app:1"],
      env(),
    );
    expect(again.layers.every((l) => l.origin === "reused")).toBe(true);
    expect(again.digest).toBe(result.digest);
  });

  describe("refuses bad inputs and tags nothing", () => {
    it("without analyzed.toml (exit 3)", async () => {
      const name = `${ns}/bad-analyzed:1`;
      const missing = join(dir, "missing-analyzed.toml");
      await expect(exportTo(["-analyzed", missing, name])).rejects.toMatchObject({
        exitCode: 3,
        message: `exporter: no analyzed metadata at ${missing}: the analyzer writes it before export (or pass -analyzed)`,
      });
      expect(await client.headManifest(name)).toBeUndefined();
    });

    it("with a launch layer that has no directory and no previous metadata (exit 62)", async () => {
      const name = `${ns}/bad-reuse:1`;
      const analyzed = join(dir, "analyzed-first.toml");
      await analyzer(["-run", runTomlPath, "-analyzed", analyzed, name], env());
      const ghost = join(layers, "examples_node", "ghost.toml");
      await writeFile(ghost, "[types]\nlaunch = true\n");
      try {
        await expect(exportTo(["-analyzed", analyzed, name])).rejects.toMatchObject({
          exitCode: 62,
          message:
            "exporter: cannot reuse 'examples/node:ghost': it is launch=true without a directory and the previous image has no metadata for it",
        });
      } finally {
        await rm(ghost);
      }
      expect(await client.headManifest(name)).toBeUndefined();
    });

    it("with an unknown -process-type (exit 62)", async () => {
      const name = `${ns}/bad-process:1`;
      await expect(exportTo(["-process-type", "nope", name])).rejects.toMatchObject({
        exitCode: 62,
        message: 'exporter: -process-type "nope" is not a process of this build (processes: web, worker)',
      });
      expect(await client.headManifest(name)).toBeUndefined();
    });

    it("with flags it does not support", async () => {
      const name = `${ns}/bad-flags:1`;
      await expect(exporter(["-daemon", name], env())).rejects.toMatchObject({
        exitCode: 62,
        message:
          "exporter: -daemon is not supported by cnbp's lifecycle yet: export to a registry, or to an OCI layout with -layout",
      });
      await expect(exporter(["-cache-image", "Cache:1", name], env())).rejects.toMatchObject({
        exitCode: 3,
        message:
          'exporter: -cache-image: "Cache:1" is not a valid image reference: repository name "Cache" must be lowercase',
      });
      await expect(exporter(["-run-image", RUN_IMAGE, name], env())).rejects.toMatchObject({
        exitCode: 3,
        message:
          "exporter: -run-image is not supported: the run image is run-image.reference in analyzed.toml",
      });
      await expect(
        exporter(["-insecure-registry", REGISTRY, name], env({ CNB_PLATFORM_API: "0.12" })),
      ).rejects.toMatchObject({
        exitCode: 3,
        message: "exporter: flag provided but not defined: -insecure-registry",
      });
      await expect(exporter([], env())).rejects.toMatchObject({
        exitCode: 3,
        message: "exporter: at least one image argument is required",
      });
      expect(await client.headManifest(name)).toBeUndefined();
    });
  });
});

describe("exporter layers", () => {
  it("owns a layer's contents by -uid/-gid and its parents by their host owners, at the CNB epoch", async () => {
    const scratch = join(dir, "scratch");
    await mkdir(scratch, { recursive: true });
    const factory = new LayerFactory(scratch, { uid: 1000, gid: 1001 });
    const built = await factory.dir("examples/web:web", "x", join(layers, "examples_web", "web"));
    const entries: [string, string, number, number, string][] = [];
    for await (const e of readLayer(built.file)) {
      entries.push([e.path, e.type, e.uid, e.gid, e.mtime.toISOString()]);
    }
    const epoch = "1980-01-01T00:00:01.000Z";
    const parents = dir.split("/").filter(Boolean);
    expect(entries).toEqual([
      ...parents.map((_, i): [string, string, number, number, string] => [
        `/${parents.slice(0, i + 1).join("/")}`,
        "directory",
        0,
        0,
        epoch,
      ]),
      [layers, "directory", 0, 0, epoch],
      [join(layers, "examples_web"), "directory", 555, 556, epoch],
      [join(layers, "examples_web", "web"), "directory", 1000, 1001, epoch],
      [join(layers, "examples_web", "web", "file"), "file", 1000, 1001, epoch],
    ]);
  });

  it("carries the runtime/ dir beside a launcher file in the launcher layer, root-owned, and none without one", async () => {
    const tree = join(dir, "launcher-tree");
    await writeFiles(tree, { "runtime/node": "node\n", "runtime/lib/libc.so.6": "libc\n" });
    await chmod(join(tree, "runtime", "node"), 0o755);
    await copyFile("/bin/busybox", join(tree, "launcher"));
    const factory = new LayerFactory(join(dir, "scratch-launcher"), { uid: 1000, gid: 1001 });
    await mkdir(join(dir, "scratch-launcher"), { recursive: true });
    const entries = async (launcherFile: string) => {
      const built = await factory.parts("launcher", "x", launcherParts(launcherFile));
      const found: string[] = [];
      for await (const e of readLayer(built.file))
        found.push(`${e.path} ${e.type} ${e.uid}:${e.gid} ${e.mode.toString(8)}`);
      return found;
    };
    expect(await entries(join(tree, "launcher"))).toEqual([
      "/cnb directory 0:0 755",
      "/cnb/lifecycle directory 0:0 755",
      "/cnb/lifecycle/launcher file 0:0 755",
      "/cnb/lifecycle/runtime directory 0:0 755",
      "/cnb/lifecycle/runtime/lib directory 0:0 755",
      "/cnb/lifecycle/runtime/lib/libc.so.6 file 0:0 644",
      "/cnb/lifecycle/runtime/node file 0:0 755",
    ]);
    expect(await entries(launcher)).toEqual([
      "/cnb directory 0:0 755",
      "/cnb/lifecycle directory 0:0 755",
      "/cnb/lifecycle/launcher file 0:0 755",
    ]);
  });

  it("slices the app dir as the Go lifecycle does", async () => {
    const root = join(dir, "slice-app");
    await writeFiles(root, {
      "a.txt": "a",
      "public/index.html": "i",
      "public/img/logo.png": "l",
      "node_modules/x/index.js": "x",
      "src/main.js": "m",
      "src/lib/util.js": "u",
    });
    const lists = await sliceAppDir(root, [
      { paths: ["public/*"] },
      { paths: ["node_modules"] },
      { paths: ["src/*.js", "public/*"] },
      { paths: ["nothing/*"] },
    ]);
    expect(lists.map((l) => [...l].sort())).toEqual([
      [".", "public", "public/img", "public/img/logo.png", "public/index.html"],
      [".", "node_modules", "node_modules/x", "node_modules/x/index.js"],
      [".", "src", "src/main.js"],
      [],
      [".", "a.txt", "src", "src/lib", "src/lib/util.js"],
    ]);
    expect(globMatcher("src/*")("src/lib/util.js")).toBe(false);
    expect(globMatcher("[a-c]?.txt")("b1.txt")).toBe(true);
    expect(globMatcher("[^a]*")("a.txt")).toBe(false);
    expect(globMatcher("\\*.txt")("*.txt")).toBe(true);
    expect(globMatcher("./public/")("public")).toBe(true);
    expect(() => globMatcher("[]")).toThrow('slice path "[]" is not a valid pattern');
  });
});
