/**
 * The rebaser against the real local registry (and OCI layouts), called with the flags and CNB_ variables a
 * platform uses. Every HTTP request it makes goes through a fetch that counts the bytes each way, so "no
 * layer moved" is measured, not assumed. The result is pulled into podman and run.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type Descriptor,
  type Fetch,
  ImageConfig,
  jsonBytes,
  layoutPath,
  Manifest,
  MediaType,
  OciLayout,
  parseSpec,
  RegistryClient,
  reportToml,
  sha256Digest,
  type WrittenImage,
  writeLayer,
} from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLog } from "../log.js";
import { rebaser } from "./rebaser.js";

const run = promisify(execFile);
const REGISTRY = "127.0.0.1:5000";
const BUSYBOX = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const DEBIAN = `${REGISTRY}/cnbp-stacks/debian-run:bookworm`;
const ns = `${REGISTRY}/cnbp-test/rebaser-${randomBytes(4).toString("hex")}`;
/** The run image the app images name in their label (the mirror on our registry is what gets chosen). */
const RUN = `${ns}/run:latest`;
const client = new RegistryClient();
let dir: string;

interface Image {
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  readonly digest: string;
}
interface LayerFile {
  readonly file: string;
  readonly diffId: string;
  readonly descriptor: Descriptor;
}

let busybox: Image;
let appLayer: LayerFile;
let newBaseLayer: LayerFile;
let newRun: Image;

async function readImage(name: string): Promise<Image> {
  const fetched = await client.getManifest(name);
  const manifest = Manifest.parse(JSON.parse(fetched.bytes.toString()));
  const config = ImageConfig.parse(JSON.parse((await client.getBlob(name, manifest.config)).toString()));
  return { manifest, config, digest: fetched.digest };
}

/** A layer tar with the given files (under `name` in the temp dir); uncompressed when gzip is false. */
async function makeLayer(
  name: string,
  files: { path: string; content?: string; source?: string }[],
  gzip = true,
): Promise<LayerFile> {
  const file = join(dir, `${name}.layer`);
  const result = await writeLayer(
    files.map((f) =>
      f.source
        ? { kind: "file" as const, path: f.path, source: f.source }
        : { kind: "file" as const, path: f.path, content: f.content ?? "" },
    ),
    file,
    { gzip },
  );
  return {
    file,
    diffId: result.diffId,
    descriptor: { mediaType: result.mediaType, digest: result.digest, size: result.size },
  };
}

/**
 * Pushes `base`'s layers (mounted from `from`) plus `layers` (uploaded) under `name`, with `base`'s config
 * changed by `edit`; a history entry per added layer.
 */
async function pushImage(
  name: string,
  base: Image,
  from: string,
  layers: readonly LayerFile[],
  edit: (config: ImageConfig) => void = () => {},
): Promise<Image> {
  for (const layer of base.manifest.layers)
    await client.pushBlob(name, layer, new Uint8Array(), { mountFrom: [from] });
  for (const layer of layers) {
    await client.pushBlob(name, layer.descriptor, () => createReadStream(layer.file));
  }
  const config: ImageConfig = structuredClone(base.config);
  config.rootfs.diff_ids.push(...layers.map((l) => l.diffId));
  config.history = [...(config.history ?? []), ...layers.map((_, i) => ({ created_by: `added layer ${i}` }))];
  edit(config);
  const configBytes = jsonBytes(config);
  const configDesc = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  await client.pushBlob(name, configDesc, configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: [...base.manifest.layers, ...layers.map((l) => l.descriptor)],
  };
  const digest = await client.putManifest(name, jsonBytes(manifest), MediaType.ociManifest);
  return { manifest, config, digest };
}

const setLabels = (config: ImageConfig, labels: Record<string, string | undefined>) => {
  const merged: Record<string, string> = { ...config.config?.Labels };
  for (const [k, v] of Object.entries(labels)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  config.config = { ...config.config, Labels: merged };
};

/** The lifecycle label of the app images: the run image is named with a mirror on our registry. */
const appMetadata = () => ({
  app: [{ sha: appLayer.diffId }],
  buildpacks: [],
  launcher: { sha: "" },
  runImage: {
    topLayer: busybox.config.rootfs.diff_ids.at(-1),
    reference: `${REGISTRY}/cnbp-stacks/busybox-run@${busybox.digest}`,
    image: "registry.invalid/cnbp/run:latest",
    mirrors: [RUN],
  },
  stack: { runImage: { image: "registry.invalid/cnbp/run:latest", mirrors: [RUN] } },
  "cnbp-future-key": { kept: true },
});

/** An app image: busybox + the app layer (+ `extra`), built at Platform 0.15, labelled as an exporter would. */
function pushApp(
  name: string,
  opts: { labels?: Record<string, string | undefined>; extra?: LayerFile[] } = {},
) {
  return pushImage(name, busybox, BUSYBOX, [appLayer, ...(opts.extra ?? [])], (config) => {
    config.config = { ...config.config, Env: [...(config.config?.Env ?? []), "CNB_PLATFORM_API=0.15"] };
    setLabels(config, {
      "io.buildpacks.lifecycle.metadata": JSON.stringify(appMetadata()),
      ...opts.labels,
    });
  });
}

/** A fetch that counts the bytes of every request and response body, by method and path. */
function countingFetch() {
  const requests: { method: string; path: string; sent: number; received: number }[] = [];
  const fetch: Fetch = async (input, init) => {
    const record = {
      method: init?.method ?? "GET",
      path: new URL(String(input)).pathname,
      sent: 0,
      received: 0,
    };
    requests.push(record);
    let body = init?.body;
    if (typeof body === "string") record.sent += Buffer.byteLength(body);
    else if (body instanceof Uint8Array) record.sent += body.byteLength;
    else if (body && typeof body === "object" && Symbol.asyncIterator in body) {
      const source = body as AsyncIterable<Uint8Array>;
      body = (async function* () {
        for await (const chunk of source) {
          record.sent += chunk.byteLength;
          yield chunk;
        }
      })() as unknown as RequestInit["body"];
    } else if (body) throw new Error(`countingFetch: cannot count a ${typeof body} body`);
    const res = await globalThis.fetch(input, { ...init, body } as RequestInit);
    if (!res.body) return res;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          record.received += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  const total = (key: "sent" | "received") => requests.reduce((n, r) => n + r[key], 0);
  return { fetch, requests, total };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const log = createLog("info", { write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
  return { log, out, err };
}

const env = (extra: Record<string, string> = {}) => ({
  CNB_PLATFORM_API: "0.15",
  CNB_LAYERS_DIR: join(dir, "layers"),
  ...extra,
});
const reportPath = () => join(dir, "layers", "report.toml");
const labelOf = (image: Image) =>
  JSON.parse(image.config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] ?? "");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-rebaser-"));
  await mkdir(join(dir, "layers"));
  busybox = await readImage(BUSYBOX);
  appLayer = await makeLayer("app", [{ path: "/workspace/app.txt", content: "hello from the app layer\n" }]);
  newBaseLayer = await makeLayer("base", [{ path: "/etc/cnbp-new-base", content: "patched run image\n" }]);
  // the new run image: busybox plus a "security patch" layer, with changed base labels
  newRun = await pushImage(RUN, busybox, BUSYBOX, [newBaseLayer], (config) =>
    setLabels(config, {
      "io.buildpacks.base.description": "cnbp test stack (patched run image)",
      "io.buildpacks.base.maintainer": undefined,
      "io.buildpacks.base.released": "2026-01-01",
      "io.buildpacks.rebasable": "false",
    }),
  );
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("rebaser", () => {
  it("puts the app layer on the new run image, moving only a config and a manifest", {
    timeout: 120_000,
  }, async () => {
    const app = await pushApp(`${ns}/app:1`);
    const traffic = countingFetch();
    const { log, out, err } = capture();
    const written: WrittenImage[] = [];
    await rebaser([`${ns}/app:1`, `${ns}/app:latest`], env(), {
      fetch: traffic.fetch,
      log,
      onWritten: (w) => written.push(w),
    });
    expect(err).toEqual([]);

    const result = await readImage(`${ns}/app:1`);
    expect(result.manifest.layers).toEqual([...newRun.manifest.layers, appLayer.descriptor]);
    expect(result.config.rootfs.diff_ids).toEqual([...newRun.config.rootfs.diff_ids, appLayer.diffId]);
    expect(result.config.created).toBe("1980-01-01T00:00:01Z");
    expect(result.config.history).toEqual([
      ...(newRun.config.history ?? []),
      { created_by: "added layer 0" },
    ]);
    expect(result.config.config?.Env).toEqual(app.config.config?.Env);
    const expectedMetadata = appMetadata();
    expectedMetadata.runImage.topLayer = newBaseLayer.diffId;
    expectedMetadata.runImage.reference = `${ns}/run@${newRun.digest}`;
    // key order kept; io.buildpacks.base.* and io.buildpacks.stack.* from the new base; the app's own kept
    expect(result.config.config?.Labels).toEqual({
      "io.buildpacks.base.description": "cnbp test stack (patched run image)",
      "io.buildpacks.base.distro.name": "busybox",
      "io.buildpacks.base.distro.version": "1.35.0",
      "io.buildpacks.base.id": "io.cnbp.stacks.busybox-1.35.0",
      "io.buildpacks.base.released": "2026-01-01",
      "io.buildpacks.lifecycle.metadata": JSON.stringify(expectedMetadata),
      "io.buildpacks.rebasable": "true",
      "io.buildpacks.stack.id": "io.cnbp.stacks.busybox-1.35.0",
      "io.cnbp.stack.inputs": busybox.config.config?.Labels?.["io.cnbp.stack.inputs"],
    });

    // both tags got the same manifest, and report.toml says so
    const latest = await client.headManifest(`${ns}/app:latest`);
    expect(latest?.digest).toBe(result.digest);
    const manifestSize = (await client.getManifest(`${ns}/app:1`)).size;
    expect(await readFile(reportPath(), "utf8")).toBe(
      `[image]\ntags = [ "${ns}/app:1", "${ns}/app:latest" ]\ndigest = "${result.digest}"\nmanifest-size = ${manifestSize}\n`,
    );
    expect(parseSpec(reportToml, await readFile(reportPath(), "utf8"), "report.toml").problems).toEqual([]);

    // no layer was read or sent: the only blobs that moved are configs; layer bytes uploaded = 0
    const layerDigests = new Set([...app.manifest.layers, ...newRun.manifest.layers].map((l) => l.digest));
    const blobGets = traffic.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    expect(blobGets.map((r) => r.path.split("/").at(-1)).sort()).toEqual(
      [app.manifest.config.digest, newRun.manifest.config.digest].sort(),
    );
    expect(blobGets.every((r) => !layerDigests.has(r.path.split("/").at(-1) as string))).toBe(true);
    const configBytes = result.manifest.config.size;
    const uploads = traffic.requests.filter((r) => r.path.includes("/blobs/uploads/") && r.sent > 0);
    expect(uploads.map((r) => r.sent)).toEqual([configBytes]); // the second tag's repository had it already
    expect(written.map((w) => w.layers)).toEqual([
      // app:1 - busybox and app layers are in the repository already; the new base layer is mounted
      { existing: 3, mounted: 1, copied: 0, bytes: 0 },
      { existing: 4, mounted: 0, copied: 0, bytes: 0 },
    ]);
    expect(out.join("")).toContain(
      `Rebased ${ns}/app:1: 1 app layers on 3 layers of ${RUN}; layers already there: 7, mounted: 1, copied: 0 (0 bytes)`,
    );

    // podman runs it: the app's file and the new base's file are both there
    const image = `${ns}/app:1`;
    try {
      await run("podman", ["pull", "-q", "--tls-verify=false", image]);
      const { stdout } = await run("podman", [
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        image,
        "-c",
        "cat /workspace/app.txt; cat /etc/cnbp-new-base",
      ]);
      expect(stdout).toBe("hello from the app layer\npatched run image\n");
    } finally {
      await run("podman", ["rmi", "--force", image]).catch(() => undefined);
    }
  });

  it("moves none of a 50 MB app layer, even to another repository", { timeout: 180_000 }, async () => {
    const big = join(dir, "big.bin");
    await writeFile(big, randomBytes(50 * 1024 * 1024));
    const bigLayer = await makeLayer("big", [{ path: "/workspace/big.bin", source: big }], false);
    expect(bigLayer.descriptor.size).toBeGreaterThan(50 * 1024 * 1024);
    await pushApp(`${ns}/big:1`, { extra: [bigLayer] });
    const traffic = countingFetch();
    const written: WrittenImage[] = [];
    await rebaser(["-previous-image", `${ns}/big:1`, `${ns}/big-rebased:1`], env(), {
      fetch: traffic.fetch,
      log: capture().log,
      onWritten: (w) => written.push(w),
    });
    const result = await readImage(`${ns}/big-rebased:1`);
    expect(result.manifest.layers).toEqual([
      ...newRun.manifest.layers,
      appLayer.descriptor,
      bigLayer.descriptor,
    ]);
    // every layer was mounted into the new repository; what moved is configs, manifests and protocol chatter
    expect(written[0]?.layers).toEqual({ existing: 0, mounted: 5, copied: 0, bytes: 0 });
    expect(
      traffic.requests.some((r) => r.path.endsWith(bigLayer.descriptor.digest) && r.method !== "HEAD"),
    ).toBe(false);
    expect(traffic.total("sent")).toBeLessThan(16 * 1024);
    expect(traffic.total("received")).toBeLessThan(16 * 1024);
    console.log(
      `rebase of an app image with a ${bigLayer.descriptor.size}-byte layer: ${traffic.total("sent")} bytes sent, ${traffic.total("received")} bytes received, ${traffic.requests.length} requests`,
    );
  });

  it("refuses an app image marked rebasable=false unless forced", { timeout: 60_000 }, async () => {
    await pushApp(`${ns}/pinned:1`, { labels: { "io.buildpacks.rebasable": "false" } });
    await expect(rebaser([`${ns}/pinned:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: "rebaser: app image is not marked as rebasable; please provide -force to override",
    });
    const { log, err } = capture();
    await rebaser(["-force", `${ns}/pinned:1`], env(), { log });
    expect(err).toEqual(["Warning: app image is not marked as rebasable\n"]);
    const result = await readImage(`${ns}/pinned:1`);
    expect(result.manifest.layers.at(-2)).toEqual(newBaseLayer.descriptor);
    // the app keeps its own rebasable label; the new base's is not copied
    expect(result.config.config?.Labels?.["io.buildpacks.rebasable"]).toBe("false");
  });

  it("refuses a run image of another architecture unless forced, then takes its os/arch", {
    timeout: 60_000,
  }, async () => {
    await pushApp(`${ns}/arch:1`);
    const armRun = `${ns}/run:arm64`;
    await pushImage(armRun, newRun, RUN, [], (config) => {
      config.architecture = "arm64";
      config.variant = "v8";
    });
    const target = (arch: string, variant: string) =>
      `{"id":"io.cnbp.stacks.busybox-1.35.0","os":"linux","arch":"${arch}","arch-variant":"${variant}","distribution":{"name":"busybox","version":"1.35.0"}}`;
    const problem = `unable to satisfy target os/arch constraints; new run image: ${target("arm64", "v8")}, old run image: ${target("amd64", "")}`;
    await expect(rebaser(["-run-image", armRun, `${ns}/arch:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: `rebaser: ${problem}; please provide -force to override`,
    });
    const { log, err } = capture();
    await rebaser(["-run-image", armRun, "-force", `${ns}/arch:1`], env(), { log });
    expect(err).toEqual([`Warning: ${problem}\n`]);
    const result = await readImage(`${ns}/arch:1`);
    expect([result.config.os, result.config.architecture, result.config.variant]).toEqual([
      "linux",
      "arm64",
      "v8",
    ]);
    // the tag is in the repository the label names, so the run image is still "listed"
    expect(labelOf(result).runImage).toMatchObject({
      image: "registry.invalid/cnbp/run:latest",
      mirrors: [RUN],
    });
  });

  it("refuses a run image of another distro, and one the label does not name, unless forced", {
    timeout: 60_000,
  }, async () => {
    await pushApp(`${ns}/distro:1`);
    const target = (id: string, name: string, version: string) =>
      `{"id":"${id}","os":"linux","arch":"amd64","arch-variant":"","distribution":{"name":"${name}","version":"${version}"}}`;
    const distroProblem = `unable to satisfy target os/arch constraints; new run image: ${target("io.cnbp.stacks.debian-12", "debian", "12")}, old run image: ${target("io.cnbp.stacks.busybox-1.35.0", "busybox", "1.35.0")}`;
    await expect(rebaser(["-run-image", DEBIAN, `${ns}/distro:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: `rebaser: ${distroProblem}; please provide -force to override`,
    });

    // a run image with the right target, in a repository the label does not name
    const otherRun = `${ns}/other-run:1`;
    await pushImage(otherRun, newRun, RUN, []);
    const old = appMetadata().runImage;
    const listed = `{"topLayer":"${old.topLayer}","reference":"${old.reference}","image":"registry.invalid/cnbp/run:latest","mirrors":["${RUN}"]}`;
    const nameProblem = `new base image '${otherRun}' not found in existing run image metadata: ${listed}`;
    await expect(rebaser(["-run-image", otherRun, `${ns}/distro:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: `rebaser: ${nameProblem}; please provide -force to override`,
    });

    // forced onto debian: both warnings, the label now names debian as its only run image
    const { log, err } = capture();
    await rebaser(["-run-image", DEBIAN, "-force", `${ns}/distro:1`], env(), { log });
    expect(err).toEqual([
      `Warning: ${distroProblem}\n`,
      `Warning: new base image '${DEBIAN}' not found in existing run image metadata: ${listed}\n`,
    ]);
    const debian = await readImage(DEBIAN);
    const result = await readImage(`${ns}/distro:1`);
    expect(result.manifest.layers).toEqual([...debian.manifest.layers, appLayer.descriptor]);
    const expected = appMetadata();
    expect(result.config.config?.Labels?.["io.buildpacks.lifecycle.metadata"]).toBe(
      JSON.stringify({
        ...expected,
        runImage: {
          topLayer: debian.config.rootfs.diff_ids.at(-1),
          reference: `${REGISTRY}/cnbp-stacks/debian-run@${debian.digest}`,
          image: DEBIAN,
        },
        stack: { runImage: { image: DEBIAN } },
      }),
    );
    const labels = result.config.config?.Labels ?? {};
    const synced = (all: Record<string, string>) =>
      Object.entries(all)
        .filter(([k]) => k.startsWith("io.buildpacks.base.") || k.startsWith("io.buildpacks.stack."))
        .sort(([a], [b]) => (a < b ? -1 : 1));
    expect(synced(labels)).toEqual(synced(debian.config.config?.Labels ?? {}));
    expect(labels["io.buildpacks.base.distro.name"]).toBe("debian");
    expect(labels["io.buildpacks.stack.id"]).toBe("io.cnbp.stacks.debian-12");
  });

  it("applies the stack rules to app images built before Platform 0.12, even with -force", {
    timeout: 60_000,
  }, async () => {
    await pushImage(`${ns}/legacy:1`, busybox, BUSYBOX, [appLayer], (config) =>
      setLabels(config, { "io.buildpacks.lifecycle.metadata": JSON.stringify(appMetadata()) }),
    );
    await expect(rebaser(["-run-image", DEBIAN, "-force", `${ns}/legacy:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message:
        "rebaser: incompatible stack: 'io.cnbp.stacks.debian-12' is not compatible with 'io.cnbp.stacks.busybox-1.35.0'",
    });
    await rebaser([`${ns}/legacy:1`], env(), { log: capture().log });
    expect((await readImage(`${ns}/legacy:1`)).manifest.layers.at(-2)).toEqual(newBaseLayer.descriptor);
  });

  it("rebases OCI layouts in layout mode, copying only the blobs a layout lacks", {
    timeout: 120_000,
  }, async () => {
    const root = join(dir, "layout-root");
    const appName = "reg.example/cnbp/app:1";
    const runName = "reg.example/cnbp/run:latest";
    // the platform puts the images in place: built here from the registry's blobs
    const writeLayout = async (name: string, image: Image, from: string) => {
      const layout = await OciLayout.create(layoutPath(root, name));
      for (const layer of image.manifest.layers) {
        await layout.writeBlob(await client.openBlob(from, layer), {
          mediaType: layer.mediaType,
          digest: layer.digest,
          size: layer.size,
        });
      }
      await layout.writeImage({ config: image.config, layers: image.manifest.layers, ref: "orig" });
    };
    const app = await pushApp(`${ns}/for-layout:1`);
    await writeLayout(appName, app, `${ns}/for-layout:1`);
    await writeLayout(runName, newRun, RUN);
    const layoutMetadata = {
      ...appMetadata(),
      runImage: { ...appMetadata().runImage, image: runName, mirrors: [] },
    };
    // the layout app image names the layout run image
    const appLayout = await OciLayout.open(layoutPath(root, appName));
    const config = structuredClone(app.config);
    setLabels(config, { "io.buildpacks.lifecycle.metadata": JSON.stringify(layoutMetadata) });
    await appLayout.removeEntry("orig");
    await appLayout.writeImage({ config, layers: app.manifest.layers, ref: "orig" });

    const runDigest = (await (await OciLayout.open(layoutPath(root, runName))).readImage()).descriptor.digest;
    const written: WrittenImage[] = [];
    await rebaser(["-layout", "-layout-dir", root, appName, "reg.example/cnbp/copy:2"], env(), {
      log: capture().log,
      onWritten: (w) => written.push(w),
    });
    const layers = (n: number) => newRun.manifest.layers.slice(0, n).reduce((s, l) => s + l.size, 0);
    expect(written.map((w) => w.layers)).toEqual([
      // written over itself: only the new base's extra layer is copied in
      { existing: 3, mounted: 0, copied: 1, bytes: newBaseLayer.descriptor.size },
      // a new layout: every layer is copied
      { existing: 0, mounted: 0, copied: 4, bytes: layers(3) + appLayer.descriptor.size },
    ]);
    for (const name of [appName, "reg.example/cnbp/copy:2"]) {
      const layout = await OciLayout.open(layoutPath(root, name));
      const index = await layout.index();
      expect(index.manifests).toHaveLength(1);
      const image = await layout.readImage();
      expect(image.ref).toBe(name.split(":").at(-1));
      expect(image.manifest.layers).toEqual([...newRun.manifest.layers, appLayer.descriptor]);
      expect(await layout.layerPresence(image.manifest)).toEqual([true, true, true, true]);
      expect(
        JSON.parse(image.config.config?.Labels?.["io.buildpacks.lifecycle.metadata"] ?? "").runImage,
      ).toEqual({
        ...layoutMetadata.runImage,
        topLayer: newBaseLayer.diffId,
        reference: `${layoutPath(root, runName)}@${runDigest}`,
      });
      // the old manifest and config are gone; nothing but this image's blobs remain
      const reachable = [
        image.descriptor.digest,
        image.manifest.config.digest,
        ...image.manifest.layers.map((l) => l.digest),
      ];
      expect((await layout.listBlobs()).sort()).toEqual([...new Set(reachable)].sort());
      expect(await readFile(reportPath(), "utf8")).toBe(
        `[image]\ntags = [ "${appName}", "reg.example/cnbp/copy:2" ]\ndigest = "${image.descriptor.digest}"\nmanifest-size = ${image.descriptor.size}\n`,
      );
    }
    // the layout is a real image: podman runs it
    const local = `localhost/cnbp-test/rebaser-layout:${randomBytes(4).toString("hex")}`;
    await run("skopeo", [
      "copy",
      "-q",
      `oci:${layoutPath(root, "reg.example/cnbp/copy:2")}`,
      `containers-storage:${local}`,
    ]);
    try {
      const { stdout } = await run("podman", [
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        local,
        "-c",
        "cat /workspace/app.txt; cat /etc/cnbp-new-base",
      ]);
      expect(stdout).toBe("hello from the app layer\npatched run image\n");
    } finally {
      await run("podman", ["rmi", "--force", local]).catch(() => undefined);
    }
  });

  it("fails clearly on bad arguments, missing images and metadata, and -daemon", {
    timeout: 60_000,
  }, async () => {
    await expect(rebaser([], env())).rejects.toMatchObject({
      exitCode: 3,
      message: "rebaser: at least one image argument is required",
    });
    await expect(
      rebaser(["-insecure-registry", REGISTRY, `${ns}/a`], env({ CNB_PLATFORM_API: "0.12" })),
    ).rejects.toMatchObject({
      exitCode: 3,
      message: "rebaser: flag provided but not defined: -insecure-registry",
    });
    await expect(rebaser(["-image", RUN, "-run-image", RUN, `${ns}/a`], env())).rejects.toMatchObject({
      exitCode: 3,
      message: "rebaser: supply only one of -run-image or (deprecated) -image",
    });
    await expect(rebaser(["-daemon", `${ns}/a`], env())).rejects.toMatchObject({
      exitCode: 72,
      message:
        "rebaser: -daemon is not supported by cnbp's lifecycle yet: rebase in a registry, or in an OCI layout with -layout",
    });
    await expect(rebaser([`${ns}/missing:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: `rebaser: the image to rebase, ${ns}/missing:1, was not found`,
    });
    // the busybox run image itself has no lifecycle label
    await pushImage(`${ns}/plain:1`, busybox, BUSYBOX, []);
    await expect(rebaser([`${ns}/plain:1`], env())).rejects.toMatchObject({
      exitCode: 3,
      message: "rebaser: -run-image is required when there is no run image metadata available",
    });
    await expect(rebaser(["-run-image", RUN, `${ns}/plain:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: `rebaser: the image to rebase, ${ns}/plain:1, has no io.buildpacks.lifecycle.metadata label: it was not built by a CNB lifecycle`,
    });
    await pushApp(`${ns}/norun:1`);
    await expect(rebaser(["-run-image", `${ns}/run:nope`, `${ns}/norun:1`], env())).rejects.toMatchObject({
      exitCode: 72,
      message: `rebaser: run image ${ns}/run:nope was not found`,
    });
  });
});
