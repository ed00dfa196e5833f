/**
 * The exporter on a run image that extensions extended or switched, against the real local registry and OCI
 * layouts: analyzed.toml as generate leaves it, pinned by the real restorer; the extended run image written
 * as the platform writes it (a sparse layout in <layers>/extended/run/<digest>); the app image read back
 * (layers, config, labels, history) and run with podman.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  blobPath,
  type Descriptor,
  ImageConfig,
  layoutPath,
  Manifest,
  OciLayout,
  RegistryClient,
  writeSparseRunImage,
} from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawTar } from "../cache/test-support/fixtures.js";
import { exportImage } from "./exporter.js";
import { restorer } from "./restorer.js";

const run = promisify(execFile);
const REGISTRY = "127.0.0.1:5000";
const RUN_IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const OTHER_RUN_IMAGE = `${REGISTRY}/cnbp-stacks/busybox-build:latest`;
const ns = `${REGISTRY}/cnbp-test/${randomBytes(6).toString("hex")}`;
const client = new RegistryClient();
const CREATED = "1980-01-01T00:00:01Z";

let dir: string;
let layers: string;
let app: string;
let launcher: string;
let runTomlPath: string;
let analyzedPath: string;
const pulled: string[] = [];

const env = () => ({
  CNB_PLATFORM_API: "0.15",
  CNB_LAYERS_DIR: layers,
  CNB_APP_DIR: app,
  CNB_USER_ID: "0",
  CNB_GROUP_ID: "0",
  CNB_LOG_LEVEL: "warn",
});
const exportTo = (args: string[]) =>
  exportImage(["-run", runTomlPath, "-launcher", launcher, ...args], env());

async function pull(name: string) {
  const fetched = await client.getManifest(name);
  const manifest = Manifest.parse(JSON.parse(fetched.bytes.toString()));
  const config = ImageConfig.parse(JSON.parse((await client.getBlob(name, manifest.config)).toString()));
  return { digest: fetched.digest, manifest, config };
}

const digestRef = async (name: string) =>
  `${name.slice(0, name.lastIndexOf(":"))}@${(await client.headManifest(name))?.digest}`;

/** analyzed.toml as generate leaves it, then the restorer's pinning (reference by digest, target). */
async function generatedThenRestored(runImage: string, extend: boolean, layoutArgs: string[] = []) {
  const extendLine = extend ? "extend = true\n" : "";
  await writeFile(
    analyzedPath,
    `[run-image]\nreference = "${runImage}"\nimage = "${runImage}"\n${extendLine}`,
  );
  await restorer(["-group", join(layers, "group.toml"), "-analyzed", analyzedPath, ...layoutArgs], env());
}

interface Extended {
  readonly dir: string;
  readonly layers: readonly { descriptor: Descriptor; diffId: string }[];
}

/**
 * The extended run image as the platform writes it (extensions.md 6): the run image's config with what two
 * extensions changed, its layers plus theirs, only their blobs in the layout. `bottom` replaces the run
 * image's layers in the config and manifest (an image built on another run image).
 */
async function writeExtended(
  runImage: { manifest: Manifest; config: ImageConfig },
  opts: { bottom?: { descriptor: Descriptor; diffId: string }[] } = {},
): Promise<Extended> {
  const runDir = join(layers, "extended", "run");
  await rm(runDir, { recursive: true, force: true });
  const staging = join(runDir, ".staging");
  const layout = await OciLayout.create(staging);
  const added = [
    await layout.writeLayer(rawTar([{ name: "ext-a.txt", content: "from extension a\n" }])),
    await layout.writeLayer(rawTar([{ name: "ext-b.txt", content: "from extension b\n" }])),
  ];
  const bottom =
    opts.bottom ??
    runImage.manifest.layers.map((descriptor, i) => ({
      descriptor,
      diffId: runImage.config.rootfs.diff_ids[i] as string,
    }));
  const { config } = runImage;
  const extendedConfig: ImageConfig = {
    ...config,
    created: CREATED,
    config: {
      ...config.config,
      User: "1002:1000",
      Env: [...(config.config?.Env ?? []), "EXT_VAR=from the extension"],
      Labels: { ...config.config?.Labels, "org.example.ext": "yes", "io.buildpacks.rebasable": "false" },
    },
    rootfs: { type: "layers", diff_ids: [...bottom.map((l) => l.diffId), ...added.map((l) => l.diffId)] },
    history: [
      ...bottom.map(() => ({ created: CREATED, created_by: "run image layer" })),
      { created: CREATED, created_by: "Layer: 'RUN echo a > /ext-a.txt', Created by extension: example/a" },
      { created: CREATED, created_by: "Layer: 'RUN echo b > /ext-b.txt', Created by extension: example/b" },
    ],
  };
  const written = await layout.writeImage({
    config: extendedConfig,
    layers: [...bottom.map((l) => l.descriptor), ...added.map((l) => l.descriptor)],
    sparse: true,
  });
  const imageDir = join(runDir, written.descriptor.digest);
  await rename(staging, imageDir);
  return { dir: imageDir, layers: added };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-exporter-ext-"));
  await chmod(dir, 0o755);
  layers = join(dir, "layers");
  app = join(dir, "workspace");
  launcher = join(dir, "launcher");
  runTomlPath = join(dir, "run.toml");
  analyzedPath = join(layers, "analyzed.toml");
  await copyFile("/bin/busybox", launcher);
  await chmod(launcher, 0o700);
  await writeFile(runTomlPath, `[[images]]\nimage = "${RUN_IMAGE}"\n`);
  const files: Record<string, string> = {
    "layers/group.toml":
      '[[group]]\nid = "examples/web"\nversion = "1.0.0"\napi = "0.10"\n\n[[group-extensions]]\nid = "example/a"\nversion = "1.0.0"\napi = "0.10"\n',
    "layers/examples_web/web.toml": "[types]\nlaunch = true\n",
    "layers/examples_web/web/file": "hello from the web layer\n",
    "layers/config/metadata.toml": [
      "[[buildpacks]]",
      'id = "examples/web"',
      'version = "1.0.0"',
      'api = "0.10"',
      "",
      "[[extensions]]",
      'id = "example/a"',
      'version = "1.0.0"',
      'api = "0.10"',
      "",
      "[[processes]]",
      'type = "web"',
      'command = ["cat"]',
      "direct = true",
      'buildpack-id = "examples/web"',
      "",
    ].join("\n"),
    "workspace/app.txt": "hello from the app\n",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  for (const name of pulled) await run("podman", ["rmi", "-f", name]).catch(() => undefined);
});

describe("exporter on an extended run image", () => {
  it("puts the run image's layers, then the extensions', then the app's, under the extended image's whole config", async () => {
    const name = `${ns}/extended:1`;
    const base = await pull(RUN_IMAGE);
    await generatedThenRestored(RUN_IMAGE, true);
    const extended = await writeExtended(base);
    const result = await exportTo([name]);
    const { digest, manifest, config } = await pull(name);
    expect(result.digest).toBe(digest);

    const extensionDescriptors = extended.layers.map((l) => l.descriptor);
    expect(manifest.layers).toEqual([
      ...base.manifest.layers,
      ...extensionDescriptors,
      ...manifest.layers.slice(base.manifest.layers.length + 2),
    ]);
    expect(result.layers.map((l) => l.id)).toEqual([
      "examples/web:web",
      "slice-1",
      "buildpacksio/lifecycle:launcher",
      "buildpacksio/lifecycle:config",
      "buildpacksio/lifecycle:process-types",
    ]);
    expect(config.rootfs.diff_ids).toEqual([
      ...base.config.rootfs.diff_ids,
      ...extended.layers.map((l) => l.diffId),
      ...result.layers.map((l) => l.diffId),
    ]);
    // the run image's blobs are mounted; the extension layers and the new ones are sent
    const sent = [...extensionDescriptors, ...manifest.layers.slice(base.manifest.layers.length + 2)];
    expect(result.bytesWritten).toBe(sent.reduce((n, l) => n + l.size, 0) + manifest.config.size);

    const { Labels, ...container } = config.config ?? {};
    expect(container).toEqual({
      User: "1002:1000",
      Env: [
        "PATH=/cnb/process:/cnb/lifecycle:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "EXT_VAR=from the extension",
        `CNB_LAYERS_DIR=${layers}`,
        `CNB_APP_DIR=${app}`,
        "CNB_PLATFORM_API=0.15",
        "CNB_DEPRECATION_MODE=quiet",
      ],
      WorkingDir: app,
      Entrypoint: ["/cnb/lifecycle/launcher"],
    });
    expect(Labels?.["org.example.ext"]).toBe("yes");
    // as the extended config gives it, though the run image says "true"
    expect(base.config.config?.Labels?.["io.buildpacks.rebasable"]).toBe("true");
    expect(Labels?.["io.buildpacks.rebasable"]).toBe("false");
    expect(Labels?.["io.buildpacks.base.id"]).toBe("io.cnbp.stacks.busybox-1.35.0");
    const label = JSON.parse(Labels?.["io.buildpacks.lifecycle.metadata"] as string);
    expect(label.runImage).toEqual({
      // the original run image's top layer: a rebase swaps what is below the extension layers
      topLayer: base.config.rootfs.diff_ids.at(-1),
      reference: await digestRef(RUN_IMAGE),
      image: RUN_IMAGE,
    });
    expect(config.history).toEqual([
      { created: CREATED, created_by: "run image layer" },
      { created: CREATED, created_by: "run image layer" },
      { created: CREATED, created_by: "Layer: 'RUN echo a > /ext-a.txt', Created by extension: example/a" },
      { created: CREATED, created_by: "Layer: 'RUN echo b > /ext-b.txt', Created by extension: example/b" },
      ...result.layers.map((l) => ({ created: CREATED, created_by: l.createdBy })),
    ]);

    pulled.push(name);
    await run("podman", ["pull", "--tls-verify=false", "-q", name]);
    const { stdout } = await run("podman", [
      "run",
      "--rm",
      "--entrypoint",
      "/bin/sh",
      name,
      "-c",
      `cat /ext-a.txt /ext-b.txt ${app}/app.txt; id -u; echo "$EXT_VAR"`,
    ]);
    expect(stdout).toBe("from extension a\nfrom extension b\nhello from the app\n1002\nfrom the extension\n");
  });

  it("does the same in layout mode, the extension layers copied into the app image's layout", async () => {
    const root = join(dir, "layout-repo");
    const runName = "reg.example/cnbp/run:1";
    await mkdir(layoutPath(root, runName), { recursive: true });
    await run("skopeo", [
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${RUN_IMAGE}`,
      `oci:${layoutPath(root, runName)}`,
    ]);
    const runLayout = await OciLayout.open(layoutPath(root, runName));
    const base = await runLayout.readImage();
    const layoutArgs = ["-layout", "-layout-dir", root];
    await generatedThenRestored(runName, true, layoutArgs);
    const extended = await writeExtended(base);
    const result = await exportTo([...layoutArgs, "reg.example/app:1"]);

    const out = await OciLayout.open(layoutPath(root, "reg.example/app:1"));
    const image = await out.readImage("1");
    expect(image.descriptor.digest).toBe(result.digest);
    expect(await out.layerPresence(image.manifest)).toEqual(image.manifest.layers.map(() => true));
    expect(image.manifest.layers.slice(0, base.manifest.layers.length + 2)).toEqual([
      ...base.manifest.layers,
      ...extended.layers.map((l) => l.descriptor),
    ]);
    expect(image.config.rootfs.diff_ids).toEqual([
      ...base.config.rootfs.diff_ids,
      ...extended.layers.map((l) => l.diffId),
      ...result.layers.map((l) => l.diffId),
    ]);
    expect(image.config.config?.User).toBe("1002:1000");
    expect(image.config.config?.Labels?.["io.buildpacks.rebasable"]).toBe("false");
    const label = JSON.parse(image.config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] as string);
    expect(label.runImage).toEqual({
      topLayer: base.config.rootfs.diff_ids.at(-1),
      reference: `${layoutPath(root, runName)}@${base.descriptor.digest}`,
      image: runName,
    });
  });

  it("takes the sparse layout that core's writeSparseRunImage (cnbp build's platform side) makes", async () => {
    const name = `${ns}/from-platform:1`;
    const full = join(dir, "full-extended");
    await mkdir(full, { recursive: true });
    await run("skopeo", ["copy", "-q", "--src-tls-verify=false", `docker://${RUN_IMAGE}`, `oci:${full}:run`]);
    const layout = await OciLayout.open(full);
    const base = await layout.readImage("run");
    const added = await layout.writeLayer(rawTar([{ name: "ext-c.txt", content: "from extension c\n" }]));
    await layout.writeImage({
      ref: "extended",
      config: {
        ...base.config,
        config: { ...base.config.config, User: "1003:1000" },
        rootfs: { type: "layers", diff_ids: [...base.config.rootfs.diff_ids, added.diffId] },
        history: [...(base.config.history ?? []), { created_by: "RUN echo c > /ext-c.txt" }],
      },
      layers: [...base.manifest.layers, added.descriptor],
    });
    await rm(join(layers, "extended"), { recursive: true, force: true });
    await generatedThenRestored(RUN_IMAGE, true);
    await writeSparseRunImage({
      extendedLayout: full,
      image: "extended",
      baseLayerCount: base.manifest.layers.length,
      addedBy: ["example/a"],
      rebasable: true,
      outDir: join(layers, "extended", "run"),
    });
    const result = await exportTo([name]);
    const { manifest, config } = await pull(name);
    expect(manifest.layers.slice(0, base.manifest.layers.length + 1)).toEqual([
      ...base.manifest.layers,
      added.descriptor,
    ]);
    expect(config.rootfs.diff_ids).toEqual([
      ...base.config.rootfs.diff_ids,
      added.diffId,
      ...result.layers.map((l) => l.diffId),
    ]);
    expect(config.config?.User).toBe("1003:1000");
    expect(config.config?.Labels?.["io.buildpacks.rebasable"]).toBe("true");
    expect(config.history?.[base.config.rootfs.diff_ids.length]).toEqual({
      created: CREATED,
      created_by: "Layer: 'RUN echo c > /ext-c.txt', Created by extension: example/a",
    });
  });

  it("names the extension layers as Docker layers when the run image has a Docker manifest", async () => {
    const dockerRun = `${ns}/docker-run:1`;
    await run("skopeo", [
      "copy",
      "-q",
      "--format",
      "v2s2",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      `docker://${RUN_IMAGE}`,
      `docker://${dockerRun}`,
    ]);
    const base = await pull(dockerRun);
    expect(base.manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    await generatedThenRestored(dockerRun, true);
    const extended = await writeExtended(base);
    const name = `${ns}/docker-app:1`;
    await exportTo([name]);
    const { manifest, config } = await pull(name);
    expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(manifest.layers.slice(0, base.manifest.layers.length + 2)).toEqual([
      ...base.manifest.layers,
      ...extended.layers.map((l) => ({
        ...l.descriptor,
        mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      })),
    ]);
    expect(config.config?.User).toBe("1002:1000");
  });

  describe("refuses an extended run image it cannot use, and writes nothing", () => {
    it("none, or more than one, in <extended>/run", async () => {
      const name = `${ns}/bad-count:1`;
      const runDir = join(layers, "extended", "run");
      await generatedThenRestored(RUN_IMAGE, true);
      await rm(runDir, { recursive: true, force: true });
      await expect(exportTo([name])).rejects.toMatchObject({
        exitCode: 62,
        message: `exporter: run-image.extend is set in analyzed.toml, so ${runDir} must hold exactly one extended run image (an OCI layout named by its manifest digest), but it has none`,
      });
      const extended = await writeExtended(await pull(RUN_IMAGE));
      await mkdir(join(runDir, "sha256:0000"));
      const names = (await readdir(runDir)).sort();
      expect(names).toContain(extended.dir.slice(runDir.length + 1));
      await expect(exportTo([name])).rejects.toMatchObject({
        exitCode: 62,
        message: `exporter: run-image.extend is set in analyzed.toml, so ${runDir} must hold exactly one extended run image (an OCI layout named by its manifest digest), but it has 2: ${names.join(", ")}`,
      });
      expect(await client.headManifest(name)).toBeUndefined();
    });

    it("an extension layer without its blob", async () => {
      const name = `${ns}/bad-blob:1`;
      await generatedThenRestored(RUN_IMAGE, true);
      const extended = await writeExtended(await pull(RUN_IMAGE));
      const missing = extended.layers[1] as Extended["layers"][number];
      await rm(join(extended.dir, blobPath(missing.descriptor.digest)));
      await expect(exportTo([name])).rejects.toMatchObject({
        exitCode: 62,
        message: `exporter: the extended run image ${extended.dir} lists layer ${missing.descriptor.digest} (diff ID ${missing.diffId}) without its blob, and the run image ${await digestRef(RUN_IMAGE)} does not have it either: the platform must write every extension layer's blob`,
      });
      expect(await client.headManifest(name)).toBeUndefined();
    });

    it("one built on another run image", async () => {
      const name = `${ns}/bad-base:1`;
      await generatedThenRestored(RUN_IMAGE, true);
      const other = await pull(OTHER_RUN_IMAGE);
      const bottom = other.manifest.layers.map((descriptor, i) => ({
        descriptor,
        diffId: other.config.rootfs.diff_ids[i] as string,
      }));
      const extended = await writeExtended(await pull(RUN_IMAGE), { bottom });
      await expect(exportTo([name])).rejects.toMatchObject({
        exitCode: 62,
        message: `exporter: the extended run image ${extended.dir} is not built on the run image ${await digestRef(RUN_IMAGE)} (run-image.reference): its bottom layers are not the run image's`,
      });
      expect(await client.headManifest(name)).toBeUndefined();
    });
  });
});

describe("exporter on a run image an extension switched", () => {
  it("builds on the new image, in a registry and in a layout, naming it in the label", async () => {
    await rm(join(layers, "extended"), { recursive: true, force: true });
    const name = `${ns}/switched:1`;
    const other = await pull(OTHER_RUN_IMAGE);
    await generatedThenRestored(OTHER_RUN_IMAGE, false);
    const result = await exportTo([name]);
    const { manifest, config } = await pull(name);
    expect(manifest.layers.slice(0, other.manifest.layers.length)).toEqual(other.manifest.layers);
    expect(config.rootfs.diff_ids).toEqual([
      ...other.config.rootfs.diff_ids,
      ...result.layers.map((l) => l.diffId),
    ]);
    const label = JSON.parse(config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] as string);
    expect(label.runImage).toEqual({
      topLayer: other.config.rootfs.diff_ids.at(-1),
      reference: await digestRef(OTHER_RUN_IMAGE),
      image: OTHER_RUN_IMAGE,
    });

    const root = join(dir, "layout-switch");
    const otherName = "reg.example/cnbp/other:1";
    await mkdir(layoutPath(root, otherName), { recursive: true });
    await run("skopeo", [
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${OTHER_RUN_IMAGE}`,
      `oci:${layoutPath(root, otherName)}`,
    ]);
    const layoutArgs = ["-layout", "-layout-dir", root];
    await generatedThenRestored(otherName, false, layoutArgs);
    const inLayout = await exportTo([...layoutArgs, "reg.example/app:1"]);
    const image = await (await OciLayout.open(layoutPath(root, "reg.example/app:1"))).readImage("1");
    expect(image.descriptor.digest).toBe(inLayout.digest);
    expect(image.config.rootfs.diff_ids.slice(0, other.config.rootfs.diff_ids.length)).toEqual(
      other.config.rootfs.diff_ids,
    );
    const layoutLabel = JSON.parse(
      image.config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] as string,
    );
    expect(layoutLabel.runImage.image).toBe(otherName);
    expect(layoutLabel.runImage.reference).toMatch(
      new RegExp(`^${layoutPath(root, otherName)}@sha256:[a-f0-9]{64}$`),
    );
  });
});
