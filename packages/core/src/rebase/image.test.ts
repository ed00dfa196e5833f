/** The rebased manifest and config, computed from plain manifests and configs. */

import { describe, expect, it } from "vitest";
import {
  type Descriptor,
  type ImageConfig,
  jsonBytes,
  type Manifest,
  MediaType,
  sha256Digest,
} from "../image/oci.js";
import { type ImageParts, REBASE_CREATED, rebasedLabel, rebaseImage } from "./image.js";
import { RebaseRefused } from "./rules.js";

const sha = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string, mediaType: string = MediaType.ociLayerGzip): Descriptor => ({
  mediaType,
  digest: sha(c),
  size: c.charCodeAt(0),
});

function image(
  layers: { digest: string; diffId: string; mediaType?: string; createdBy?: string }[],
  labels: Record<string, string>,
  extra: Partial<ImageConfig> = {},
  withHistory = true,
): ImageParts {
  return {
    manifest: {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha("c"), size: 1 },
      layers: layers.map((l) => layer(l.digest, l.mediaType)),
    },
    config: {
      created: "2024-01-01T00:00:00Z",
      architecture: "amd64",
      os: "linux",
      config: { Env: ["CNB_PLATFORM_API=0.15"], Entrypoint: ["/cnb/process/web"], Labels: labels },
      rootfs: { type: "layers", diff_ids: layers.map((l) => sha(l.diffId)) },
      ...(withHistory ? { history: layers.map((l) => ({ created_by: l.createdBy ?? l.diffId })) } : {}),
      ...extra,
    },
  };
}

const OLD_TOP = sha("2");
const appLabel = {
  app: [{ sha: sha("a") }],
  buildpacks: [],
  runImage: { topLayer: OLD_TOP, reference: "reg/run@sha256:old", image: "reg/run:1", mirrors: ["m/run:1"] },
  stack: { runImage: { image: "reg/run:1", mirrors: ["m/run:1"] } },
  future: { kept: true },
};
const app = image(
  [
    { digest: "1", diffId: "1" },
    { digest: "2", diffId: "2" },
    { digest: "a", diffId: "a", mediaType: MediaType.dockerLayerGzip, createdBy: "Application Layer" },
  ],
  {
    "io.buildpacks.base.maintainer": "old",
    "io.buildpacks.base.distro.name": "ubuntu",
    "io.buildpacks.stack.id": "old.stack",
    "io.buildpacks.lifecycle.metadata": JSON.stringify(appLabel),
    "io.buildpacks.rebasable": "true",
    "z.app": "kept",
  },
);
const newBase = {
  ...image(
    [
      { digest: "1", diffId: "1" },
      { digest: "4", diffId: "4" },
      { digest: "5", diffId: "5" },
    ],
    {
      "io.buildpacks.base.distro.name": "ubuntu",
      "io.buildpacks.base.released": "today",
      "io.buildpacks.stack.id": "new.stack",
      "io.buildpacks.rebasable": "false",
      "other.base": "not copied",
    },
  ),
  digest: sha("9"),
  reference: `reg/run@${sha("9")}`,
  name: "reg/run:1",
};

describe("rebaseImage", () => {
  it("puts the app's layers on the new base and rewrites labels, rootfs, history and created", () => {
    const out = rebaseImage({ app, newBase, label: appLabel, force: false, renameRunImage: false });
    expect(out.manifest.layers).toEqual([
      layer("1"),
      layer("4"),
      layer("5"),
      // a Docker layer type is written under its OCI name in the OCI manifest
      layer("a", MediaType.ociLayerGzip),
    ]);
    expect(out.baseLayerCount).toBe(3);
    expect(out.config.rootfs.diff_ids).toEqual([sha("1"), sha("4"), sha("5"), sha("a")]);
    expect(out.config.history).toEqual([
      { created_by: "1" },
      { created_by: "4" },
      { created_by: "5" },
      { created_by: "Application Layer" },
    ]);
    expect(out.config.created).toBe(REBASE_CREATED);
    expect(out.config.config?.Entrypoint).toEqual(["/cnb/process/web"]);
    const label = {
      ...appLabel,
      runImage: { ...appLabel.runImage, topLayer: sha("5"), reference: `reg/run@${sha("9")}` },
    };
    const labels = out.config.config?.Labels ?? {};
    expect(labels).toEqual({
      "io.buildpacks.base.distro.name": "ubuntu",
      "io.buildpacks.base.released": "today",
      "io.buildpacks.lifecycle.metadata": JSON.stringify(label),
      "io.buildpacks.rebasable": "true",
      "io.buildpacks.stack.id": "new.stack",
      "z.app": "kept",
    });
    expect(Object.keys(labels)).toEqual(Object.keys(labels).sort());
    expect(out.configBytes).toEqual(jsonBytes(out.config));
    expect(out.manifest.config).toEqual({
      mediaType: MediaType.ociConfig,
      digest: sha256Digest(out.configBytes),
      size: out.configBytes.length,
    });
    expect(out.digest).toBe(sha256Digest(out.manifestBytes));
    expect(JSON.parse(out.manifestBytes.toString())).toEqual(out.manifest);
  });

  it("records a forced unlisted run image as the label's only run image", () => {
    expect(rebasedLabel(appLabel, { topLayer: sha("5"), reference: "ref", renameTo: "other/run:2" })).toEqual(
      {
        ...appLabel,
        runImage: { topLayer: sha("5"), reference: "ref", image: "other/run:2" },
        stack: { runImage: { image: "other/run:2" } },
      },
    );
  });

  it("takes os/arch from the new base, and the variant only when forced", () => {
    const armBase = { ...newBase, config: { ...newBase.config, architecture: "arm64", variant: "v8" } };
    const plain = rebaseImage({
      app,
      newBase: armBase,
      label: appLabel,
      force: false,
      renameRunImage: false,
    });
    expect([plain.config.architecture, plain.config.variant]).toEqual(["arm64", undefined]);
    const forced = rebaseImage({
      app,
      newBase: armBase,
      label: appLabel,
      force: true,
      renameRunImage: false,
    });
    expect([forced.config.architecture, forced.config.variant]).toEqual(["arm64", "v8"]);
  });

  it("leaves the old base's closing empty-layer history behind, so a second rebase onto the same base changes nothing", () => {
    const withUser = (parts: ImageParts, after: number, user: string): ImageParts => {
      const history = [...(parts.config.history ?? [])];
      history.splice(after + 1, 0, { created_by: `USER ${user}`, empty_layer: true });
      return { ...parts, config: { ...parts.config, history } };
    };
    const base = { ...newBase, ...withUser(newBase, 2, "new") };
    const once = rebaseImage({
      app: withUser(app, 1, "old"),
      newBase: base,
      label: appLabel,
      force: false,
      renameRunImage: false,
    });
    expect(once.config.history?.map((h) => h.created_by)).toEqual([
      "1",
      "4",
      "5",
      "USER new",
      "Application Layer",
    ]);
    const twice = rebaseImage({
      app: once,
      newBase: base,
      label: once.label,
      force: false,
      renameRunImage: false,
    });
    expect(twice.digest).toBe(once.digest);
  });

  it("drops history that does not match the layers, and updates base annotations", () => {
    const noHistory = image(
      [
        { digest: "1", diffId: "1" },
        { digest: "2", diffId: "2" },
      ],
      {},
      {},
      false,
    );
    const annotated: ImageParts = {
      ...noHistory,
      manifest: {
        ...noHistory.manifest,
        annotations: { "org.opencontainers.image.base.name": "reg/run:0", "x.y": "z" },
      } as Manifest,
    };
    const out = rebaseImage({
      app: annotated,
      newBase,
      label: appLabel,
      force: false,
      renameRunImage: false,
    });
    expect(out.config.history).toBeUndefined();
    expect(out.manifest.layers.map((l) => l.digest)).toEqual([sha("1"), sha("4"), sha("5")]);
    expect(out.manifest.annotations).toEqual({
      "org.opencontainers.image.base.name": "reg/run:1",
      "org.opencontainers.image.base.digest": sha("9"),
      "x.y": "z",
    });
  });

  it("refuses a label without a usable top layer", () => {
    const run = (runImage: unknown) => () =>
      rebaseImage({ app, newBase, label: { runImage }, force: false, renameRunImage: false });
    expect(run({})).toThrow(RebaseRefused);
    expect(run({})).toThrow(
      "the app image's io.buildpacks.lifecycle.metadata label has no runImage.topLayer: its run image layers cannot be told from its own",
    );
    expect(run({ topLayer: sha("7") })).toThrow(
      `the app image's run image top layer ${sha("7")} (runImage.topLayer in its io.buildpacks.lifecycle.metadata label) is not one of its layers`,
    );
  });
});
