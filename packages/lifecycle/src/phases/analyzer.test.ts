/**
 * The analyzer against the real local registry (and an OCI layout), called with the flags and CNB_ variables
 * a platform uses; analyzed.toml is checked key by key.
 */

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  analyzedToml,
  ImageConfig,
  jsonBytes,
  layoutPath,
  Manifest,
  MediaType,
  parseSpec,
  RegistryClient,
  sha256Digest,
} from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "./analyzer.js";

const REGISTRY = "127.0.0.1:5000";
const RUN_IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const ns = `${REGISTRY}/cnbp-test/analyzer-${randomBytes(4).toString("hex")}`;
const client = new RegistryClient();
let dir: string;

const env = (extra: Record<string, string> = {}) => ({
  CNB_PLATFORM_API: "0.15",
  CNB_LAYERS_DIR: join(dir, "layers"),
  ...extra,
});
const readAnalyzed = async (path = join(dir, "layers", "analyzed.toml")) => {
  const parsed = parseSpec(analyzedToml, await readFile(path, "utf8"), "analyzed.toml");
  expect(parsed.problems).toEqual([]);
  return parsed.value;
};
const runDigest = async () => (await client.headManifest(RUN_IMAGE))?.digest;

/** An "app image": the busybox run image with a lifecycle metadata label, pushed under `name`. */
async function pushAppImage(name: string, label: unknown): Promise<string> {
  const base = await client.getManifest(RUN_IMAGE);
  const manifest = Manifest.parse(JSON.parse(base.bytes.toString()));
  const config = ImageConfig.parse(JSON.parse((await client.getBlob(RUN_IMAGE, manifest.config)).toString()));
  config.config = {
    ...config.config,
    Labels: { ...config.config?.Labels, "io.buildpacks.lifecycle.metadata": JSON.stringify(label) },
  };
  const configBytes = jsonBytes(config);
  const configDesc = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  await client.pushBlob(name, configDesc, configBytes);
  for (const layer of manifest.layers)
    await client.pushBlob(name, layer, new Uint8Array(), { mountFrom: [RUN_IMAGE] });
  const appManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: manifest.layers,
  };
  return client.putManifest(name, jsonBytes(appManifest), MediaType.ociManifest);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-analyzer-"));
  await mkdir(join(dir, "layers"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("analyzer", () => {
  it("records the run image chosen from run.toml and its target data on a first build", async () => {
    const runToml = join(dir, "run.toml");
    // the first candidate does not exist, so the readable mirror on the output image's registry wins
    await writeFile(
      runToml,
      `[[images]]\nimage = "${REGISTRY}/cnbp-test/no-such-run:1"\nmirrors = ["${RUN_IMAGE}"]\n`,
    );
    await analyzer(["-run", runToml, `${ns}/app:1`], env());
    const analyzed = await readAnalyzed();
    expect(analyzed).toEqual({
      image: { reference: "" },
      "run-image": {
        reference: `${REGISTRY}/cnbp-stacks/busybox-run@${await runDigest()}`,
        image: RUN_IMAGE,
        target: {
          id: "io.cnbp.stacks.busybox-1.35.0",
          os: "linux",
          arch: "amd64",
          distro: { name: "busybox", version: "1.35.0" },
        },
      },
    });
  });

  it("reads the previous image's metadata into [metadata], in TOML spelling", async () => {
    const layerSha = `sha256:${"1".repeat(64)}`;
    const label = {
      app: [{ sha: `sha256:${"2".repeat(64)}` }],
      config: { sha: `sha256:${"3".repeat(64)}` },
      launcher: { sha: `sha256:${"4".repeat(64)}` },
      buildpacks: [
        {
          key: "examples/node",
          version: "1.0.0",
          layers: {
            node: { sha: layerSha, data: { version: "20" }, launch: true, build: false, cache: true },
          },
          store: { metadata: { hash: "abc" } },
        },
      ],
      runImage: { topLayer: `sha256:${"5".repeat(64)}`, reference: "r@sha256:x", image: RUN_IMAGE },
    };
    const digest = await pushAppImage(`${ns}/prev:1`, label);
    await analyzer(["-run-image", RUN_IMAGE, `${ns}/prev:1`], env());
    const analyzed = await readAnalyzed();
    expect(analyzed?.image).toEqual({ reference: `${ns}/prev@${digest}` });
    expect(analyzed?.metadata).toEqual({
      app: [{ sha: `sha256:${"2".repeat(64)}` }],
      config: { sha: `sha256:${"3".repeat(64)}` },
      launcher: { sha: `sha256:${"4".repeat(64)}` },
      buildpacks: [
        {
          key: "examples/node",
          version: "1.0.0",
          layers: { node: { sha: layerSha, launch: true, cache: true, metadata: { version: "20" } } },
          store: { metadata: { hash: "abc" } },
        },
      ],
      "run-image": { "top-layer": `sha256:${"5".repeat(64)}`, reference: "r@sha256:x", image: RUN_IMAGE },
    });
  });

  it("treats a previous image with an unreadable label as a first build", async () => {
    await pushAppImage(`${ns}/garbled:1`, "not an object");
    await analyzer(["-run-image", RUN_IMAGE, `${ns}/garbled:1`], env());
    expect((await readAnalyzed())?.metadata).toBeUndefined();
  });

  it("works on OCI layouts in layout mode", async () => {
    const root = join(dir, "layout-root");
    // the platform puts the run image in place; a name without a port, since skopeo's oci: paths cannot hold ':'
    const runImage = "reg.example/cnbp/run:1";
    await mkdir(layoutPath(root, runImage), { recursive: true });
    await promisify(execFile)("skopeo", [
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${RUN_IMAGE}`,
      `oci:${layoutPath(root, runImage)}`,
    ]);
    await analyzer(["-layout", "-layout-dir", root, "-run-image", runImage, "reg.example/app:1"], env());
    const analyzed = await readAnalyzed();
    expect(analyzed?.image).toEqual({ reference: "" });
    expect(analyzed?.["run-image"]?.reference).toMatch(
      new RegExp(`^${layoutPath(root, runImage)}@sha256:[a-f0-9]{64}$`),
    );
    expect(analyzed?.["run-image"]?.target?.os).toBe("linux");
  });

  it("fails with exit code 11 without a supported CNB_PLATFORM_API", async () => {
    await expect(analyzer([`${ns}/app:1`], { CNB_LAYERS_DIR: dir })).rejects.toMatchObject({
      exitCode: 11,
      message: "CNB_PLATFORM_API is not set: the platform must set it to one of 0.12, 0.13, 0.14, 0.15",
    });
    await expect(analyzer([`${ns}/app:1`], env({ CNB_PLATFORM_API: "0.9" }))).rejects.toMatchObject({
      exitCode: 11,
      message: 'Platform API "0.9" is not supported by this lifecycle (it supports 0.12, 0.13, 0.14, 0.15)',
    });
  });

  it("refuses flags of a newer Platform API and bad arguments with exit code 3", async () => {
    await expect(
      analyzer(["-insecure-registry", REGISTRY, `${ns}/a`], env({ CNB_PLATFORM_API: "0.12" })),
    ).rejects.toMatchObject({
      exitCode: 3,
      message: "analyzer: flag provided but not defined: -insecure-registry",
    });
    await expect(analyzer(["-tag", "other.example/a:2", `${ns}/a:1`], env())).rejects.toMatchObject({
      exitCode: 3,
      message: `analyzer: the image and its tags must be on one registry, found ${REGISTRY}, other.example`,
    });
    await expect(analyzer([], env())).rejects.toMatchObject({
      exitCode: 3,
      message: "analyzer: expected exactly one argument, the output image; got 0",
    });
  });

  it("fails clearly when no run image can be found", async () => {
    await expect(analyzer(["-run", join(dir, "none.toml"), `${ns}/a:1`], env())).rejects.toMatchObject({
      exitCode: 3,
      message: `analyzer: no run image: pass -run-image, or provide ${join(dir, "none.toml")}`,
    });
    await expect(analyzer(["-run-image", `${ns}/missing-run:1`, `${ns}/a:1`], env())).rejects.toMatchObject({
      exitCode: 32,
      message: `analyzer: run image ${ns}/missing-run:1 was not found`,
    });
  });
});
