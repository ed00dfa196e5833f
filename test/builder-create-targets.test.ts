/**
 * `cnbp builder create` with several `[[targets]]`: a builder per target under one OCI image index with
 * --publish and --output oci:<dir>, only the --target one in the driver's image store. The arm64 build image
 * is the busybox one's layers with a config that says arm64 (nothing runs it), under an index with the amd64
 * one.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ImageConfig,
  Index,
  jsonBytes,
  Manifest,
  MediaType,
  manifestOf,
  parseReference,
  RegistryBackend,
  RegistryClient,
  RegistryImageWriter,
  type SourceImage,
  sha256Digest,
} from "@cnbp/core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, engine, inRegistry, REGISTRY, RUN_ID, STACKS, writeFiles, writtenLines } from "#test-utils";

const client = new RegistryClient();
const REPO = `${REGISTRY}/cnbp-test/${RUN_ID}`;
const BUILD_INDEX = `${REPO}/multi-build:1`;
const AMD64_ONLY = inRegistry(STACKS.busybox.build);
const RUN_IMAGE = inRegistry(STACKS.busybox.run);

let dir: string;
let env: Record<string, string>;
let base: SourceImage;
// the store pulls the build image too
const stored: string[] = [BUILD_INDEX];

async function builderToml(name: string, buildImage: string) {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      '[[buildpacks]]\nuri = "bp/any"',
      '[[order]]\n[[order.group]]\nid = "ex/any"',
      `[build]\nimage = "${buildImage}"`,
      `[run]\n[[run.images]]\nimage = "${RUN_IMAGE}"`,
      '[[targets]]\nos = "linux"\narch = "amd64"',
      '[[targets]]\nos = "linux"\narch = "arm64"',
      "",
    ].join("\n"),
  );
  return file;
}

/** Saves the busybox build image's layers under `repository` by digest with `config`; its descriptor. */
async function copyWith(repository: string, config: ImageConfig) {
  const image = {
    format: "oci" as const,
    config,
    layers: base.manifest.layers.map((descriptor, i) => ({
      descriptor: { ...descriptor, mediaType: MediaType.ociLayerGzip },
      diffId: base.config.rootfs.diff_ids[i] as `sha256:${string}`,
      origin: { kind: "image" as const, image: base },
    })),
  };
  const { bytes } = manifestOf(image);
  await new RegistryImageWriter(client).save(image, [`${repository}@${sha256Digest(bytes)}`]);
  return {
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(bytes),
    size: bytes.length,
    platform: { os: config.os, architecture: config.architecture },
  };
}

async function readManifest(name: string) {
  return JSON.parse((await client.getManifest(parseReference(name))).bytes.toString("utf8"));
}

async function configOf(repository: string, digest: string): Promise<ImageConfig> {
  const manifest = Manifest.parse(await readManifest(`${repository}@${digest}`));
  return JSON.parse((await client.getBlob(parseReference(repository), manifest.config)).toString("utf8"));
}

const ADDED = ["directories", "lifecycle 0.1.0", "buildpack ex/any@1.0.0", "order", "run"];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-targets-e2e-"));
  await writeFiles(join(dir, "bp/any"), {
    "buildpack.toml": 'api = "0.12"\n[buildpack]\nid = "ex/any"\nversion = "1.0.0"\n',
    "bin/detect": "#!/bin/sh\nexit 0\n",
    "bin/build": "#!/bin/sh\nexit 0\n",
  });
  env = { CNBP_CACHE_DIR: join(dir, "cache") };
  const found = await new RegistryBackend(client).find(AMD64_ONLY);
  if (!found) throw new Error("the busybox build image is not in the registry: run scripts/stacks/build.sh");
  base = found;
  const repository = BUILD_INDEX.slice(0, BUILD_INDEX.lastIndexOf(":"));
  const manifests = [
    await copyWith(repository, base.config),
    await copyWith(repository, { ...base.config, architecture: "arm64" }),
  ];
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  await client.putManifest(BUILD_INDEX, jsonBytes(index), MediaType.ociIndex);
});

afterAll(async () => {
  for (const image of stored) await execa("podman", ["rmi", "-f", image], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp builder create with several [[targets]]", () => {
  it("publishes an image index of a builder per target, each on its platform's build image", async () => {
    const config = await builderToml("builder.toml", BUILD_INDEX);
    const name = `${REPO}/multi-builder:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `${config}: warning: lifecycle cnbp's own lifecycle is built for linux/amd64: the linux/arm64 builder gets it, but builds on linux/arm64 need a [lifecycle] uri for that platform`,
    );
    expect(writtenLines(r.stdout)).toEqual([
      ...ADDED.map((what) => `written ${what} (linux/amd64)`),
      // the same layers as linux/amd64's: already there
      ...ADDED.map((what) => `exists ${what} (linux/arm64)`),
      expect.stringMatching(
        new RegExp(`^builder ${name} written to ${name} \\(sha256:[a-f0-9]{64}\\), \\d+ bytes sent$`),
      ),
    ]);

    const index = Index.parse(await readManifest(name));
    expect(index.mediaType).toBe(MediaType.ociIndex);
    expect(index.manifests.map((m) => [m.mediaType, m.platform])).toEqual([
      [MediaType.ociManifest, { architecture: "amd64", os: "linux" }],
      [MediaType.ociManifest, { architecture: "arm64", os: "linux" }],
    ]);
    const repository = name.slice(0, name.lastIndexOf(":"));
    const [amd64, arm64] = await Promise.all(index.manifests.map((m) => configOf(repository, m.digest)));
    expect([amd64?.architecture, arm64?.architecture]).toEqual(["amd64", "arm64"]);
    const baseIds = base.config.rootfs.diff_ids;
    // the same base layers, and the same layers added: one builder's layers serve the other
    expect(amd64?.rootfs.diff_ids.slice(0, baseIds.length)).toEqual(baseIds);
    expect(arm64?.rootfs.diff_ids).toEqual(amd64?.rootfs.diff_ids);
    expect(arm64?.config?.Labels).toEqual(amd64?.config?.Labels);
    expect(JSON.parse(amd64?.config?.Labels?.["io.buildpacks.buildpack.order"] ?? "")).toEqual([
      { group: [{ id: "ex/any", version: "1.0.0" }] },
    ]);

    // builder inspect lists both builders' targets, and shows the host's (linux/amd64) or --platform's
    const distros = [STACKS.busybox.distro];
    const targets = [
      { os: "linux", arch: "amd64", distros },
      { os: "linux", arch: "arm64", distros },
    ];
    for (const [flags, shown] of [
      [[], targets[0]],
      [["--platform", "linux/arm64"], targets[1]],
    ] as const) {
      const inspect = await cnbp(["builder", "inspect", name, "-o", "json", ...flags]);
      expect(inspect.exitCode, inspect.stderr).toBe(0);
      const info = JSON.parse(inspect.stdout);
      expect([info.index, info.target]).toEqual([{ targets, shown }, shown]);
      expect(info.buildpacks.map((b: { id: string }) => b.id)).toEqual(["ex/any"]);
    }
  });

  it("writes the image index into an OCI layout with --output", async () => {
    const config = join(dir, "builder.toml");
    const layout = join(dir, "layout");
    const name = `${REPO}/multi-builder:1`;
    const r = await cnbp(
      ["builder", "create", name, "--config", config, "--output", `oci:${layout}`, "--json"],
      {
        env,
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const published = await client.getManifest(parseReference(name));
    // the same builders and the same index as published
    expect(JSON.parse(r.stdout).digest).toBe(published.digest);
    const top = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(top.manifests).toEqual([
      {
        mediaType: MediaType.ociIndex,
        digest: published.digest,
        size: published.bytes.length,
        annotations: { "org.opencontainers.image.ref.name": "1" },
      },
    ]);
    const blob = (digest: string) => readFile(join(layout, "blobs", ...digest.split(":")));
    expect((await blob(published.digest)).equals(published.bytes)).toBe(true);
    for (const m of Index.parse(JSON.parse(published.bytes.toString("utf8"))).manifests) {
      const manifest = Manifest.parse(JSON.parse((await blob(m.digest)).toString("utf8")));
      for (const layer of manifest.layers) expect((await blob(layer.digest)).length).toBe(layer.size);
    }
  });

  it("saves only the --target (else the engine's) builder into the driver's image store, and says so", async () => {
    const config = join(dir, "builder.toml");
    const name = `localhost/cnbp-test/${RUN_ID}/multi-stored:1`;
    stored.push(name);
    const r = await cnbp(["builder", "create", name, "--config", config, "--driver", "podman"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `${config}:11: warning: targets (linux/amd64, linux/arm64): the driver's image store takes one image per name, so only the linux/amd64 builder is made (--target picks another; --publish or --output oci:<dir> makes them all, as an image index)`,
    );
    const platform = () =>
      engine("podman", ["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", name]);
    // the engine's platform, where no --target is given
    expect(await platform()).toBe("linux/amd64");

    const arm = await cnbp(
      ["builder", "create", name, "--config", config, "--driver", "podman", "--target", "linux/arm64"],
      { env },
    );
    expect(arm.exitCode, arm.stderr).toBe(0);
    expect(arm.stderr.split("\n")).toEqual([
      `${config}:11: warning: targets (linux/amd64, linux/arm64): the driver's image store takes one image per name, so only the linux/arm64 builder is made (--target picks another; --publish or --output oci:<dir> makes them all, as an image index)`,
      `${config}: warning: lifecycle cnbp's own lifecycle is built for linux/amd64: the linux/arm64 builder gets it, but builds on linux/arm64 need a [lifecycle] uri for that platform`,
    ]);
    expect(await platform()).toBe("linux/arm64");
  });

  it("refuses a build image that has no image for a target, at that target's line, and writes nothing", async () => {
    const config = await builderToml("amd64-only.toml", AMD64_ONLY);
    const name = `${REPO}/multi-bad:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:14: targets[1] linux/arm64: the build image ${AMD64_ONLY} has no linux/arm64 image (it is for linux/amd64): give a build image with an image for each target`,
    );
    expect(await client.headManifest(parseReference(name))).toBeUndefined();
  });
});
