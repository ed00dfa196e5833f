/**
 * `cnbp buildpack package` and `cnbp extension package` as a user runs them: a buildpack directory packaged
 * as a .cnb file, an OCI layout and an image in the local registry (the same image each time), composites
 * whose dependencies are directories, archives, .cnb files and images (their layers reused as they are), an
 * extension; every package read back blob by blob and label by label, inspected with `cnbp buildpack
 * inspect`, and used as a `[[buildpacks]] uri` of `cnbp builder create`, whose detector runs in Podman.
 */
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  type ImageConfig,
  type Manifest,
  OciArchive,
  OciLayout,
  type OciLayoutReader,
  parseReference,
  RegistryClient,
  readLayer,
} from "@cnbp/core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cnbp,
  detectWithBuilder,
  engine,
  REGISTRY,
  REPO_ROOT,
  RUN_ID,
  stackTables,
  writeFiles,
} from "#test-utils";

const client = new RegistryClient();
const REPO = `${REGISTRY}/cnbp-test/${RUN_ID}`;
const HELLO = `${REPO}/hello:1`;
const META = `${REPO}/meta:1`;
const BUILDER = `${REPO}/packaged-builder:1`;

let dir: string;
let env: Record<string, string>;
const pulled: string[] = [];

/** What a test reads of an image: its manifest, config, labels and the entries of a layer. */
interface ReadImage {
  readonly digest: string;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  readonly labels: Record<string, string>;
  /** `path mode uid:gid` of each entry of the layer with this diffID. */
  entries(diffId: string): Promise<string[]>;
}

async function fromRegistry(name: string): Promise<ReadImage> {
  const ref = parseReference(name);
  const fetched = await client.getManifest(ref);
  const manifest = JSON.parse(fetched.bytes.toString("utf8")) as Manifest;
  const config = JSON.parse((await client.getBlob(ref, manifest.config)).toString("utf8")) as ImageConfig;
  return image(fetched.digest, manifest, config, async (i) =>
    client.openBlob(ref, manifest.layers[i] as Manifest["layers"][number]),
  );
}

async function fromLayout(layout: OciLayoutReader): Promise<ReadImage> {
  const { descriptor, manifest, config } = await layout.readImage();
  return image(descriptor.digest, manifest, config, (i) =>
    layout.openBlob(manifest.layers[i] as Manifest["layers"][number]),
  );
}

function image(
  digest: string,
  manifest: Manifest,
  config: ImageConfig,
  open: (i: number) => Promise<Readable>,
): ReadImage {
  return {
    digest,
    manifest,
    config,
    labels: config.config?.Labels ?? {},
    async entries(diffId) {
      const i = config.rootfs.diff_ids.indexOf(diffId);
      if (i < 0) throw new Error(`no layer ${diffId}`);
      const out: string[] = [];
      for await (const e of readLayer(await open(i)))
        out.push(`${e.path} ${e.mode.toString(8)} ${e.uid}:${e.gid}`);
      return out;
    },
  };
}

const layersOf = (img: ReadImage) => JSON.parse(img.labels["io.buildpacks.buildpack.layers"] as string);

async function inspect(name: string) {
  const r = await cnbp(["buildpack", "inspect", name, "-o", "json"]);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-package-e2e-"));
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await writeFiles(dir, {
    // a buildpack that never passes, given as a .tgz of its root
    "never/buildpack.toml": 'api = "0.12"\n[buildpack]\nid = "ex/never"\nversion = "1.0.0"\n',
    "never/bin/detect": "#!/bin/sh\nexit 100\n",
    "never/bin/build": "#!/bin/sh\nexit 1\n",
    "bp/meta/buildpack.toml": [
      'api = "0.10"',
      '[buildpack]\nid = "ex/meta"\nversion = "1.0.0"\nname = "Meta"',
      '[[order]]\n[[order.group]]\nid = "examples/hello"\nversion = "0.1.0"',
      '[[order.group]]\nid = "ex/never"\nversion = "1.0.0"\noptional = true',
      "",
    ].join("\n"),
    "bp/outer/buildpack.toml":
      'api = "0.10"\n[buildpack]\nid = "ex/outer"\nversion = "2.0.0"\n[[order]]\n[[order.group]]\nid = "ex/meta"\nversion = "1.0.0"\n',
    "ext/tools/extension.toml":
      'api = "0.12"\n[extension]\nid = "ex/tools"\nversion = "1.0.0"\nhomepage = "https://example.com/tools"\n',
    "ext/tools/bin/detect": "#!/bin/sh\nexit 100\n",
    "hello.toml": '[buildpack]\nuri = "bp/hello"\n',
    "meta.toml":
      '[buildpack]\nuri = "bp/meta"\n\n[[dependencies]]\nuri = "hello.cnb"\n\n[[dependencies]]\nuri = "never.tgz"\n',
    "outer.toml": `[buildpack]\nuri = "bp/outer"\n[[dependencies]]\nimage = "${META}"\n`,
    "ext.toml": '[extension]\nuri = "ext/tools"\n',
  });
  await execa("tar", ["-czf", join(dir, "never.tgz"), "-C", join(dir, "never"), "."]);
  await mkdir(join(dir, "tmp"));
  env = { CNBP_CACHE_DIR: join(dir, "cache"), TMPDIR: join(dir, "tmp") };
});

afterAll(async () => {
  for (const name of pulled) await execa("podman", ["rmi", "-f", name], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

const HELLO_ENTRIES = [
  "/cnb/buildpacks/examples_hello 755 0:0",
  "/cnb/buildpacks/examples_hello/0.1.0 755 0:0",
  "/cnb/buildpacks/examples_hello/0.1.0/bin 755 0:0",
  "/cnb/buildpacks/examples_hello/0.1.0/bin/build 755 0:0",
  "/cnb/buildpacks/examples_hello/0.1.0/bin/detect 755 0:0",
  "/cnb/buildpacks/examples_hello/0.1.0/buildpack.toml 644 0:0",
];

/** The stdout of a package command with sizes and digests taken out. */
const lines = (stdout: string) =>
  stdout
    .split("\n")
    .map((l) => l.replace(/^(\S+)\s+[0-9a-f]{12}\s+\d+ /, "$1 ").replace(/sha256:[0-9a-f]{64}/, "<digest>"));

describe("cnbp buildpack package", () => {
  it("writes a buildpack directory as a .cnb file: one layer, pack's labels, an OCI layout tar", async () => {
    const file = join(dir, "hello.cnb");
    const r = await cnbp(["buildpack", "package", file, "--config", join(dir, "hello.toml")], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(lines(r.stdout)).toEqual([
      "written buildpack examples/hello@0.1.0",
      expect.stringMatching(`^buildpackage ${file} written to ${file} \\(<digest>\\), \\d+ bytes sent$`),
    ]);
    const tar = await execa("tar", ["-tvf", file]);
    expect(tar.stdout.split("\n").map((l) => l.split(/\s+/).filter((_, i) => i !== 2 && i !== 4))).toEqual([
      ["drwxr-xr-x", "0/0", "1980-01-01", "blobs/"],
      ["drwxr-xr-x", "0/0", "1980-01-01", "blobs/sha256/"],
      ...Array.from({ length: 3 }, () => [
        "-rw-r--r--",
        "0/0",
        "1980-01-01",
        expect.stringMatching(/^blobs\/sha256\//),
      ]),
      ["-rw-r--r--", "0/0", "1980-01-01", "index.json"],
      ["-rw-r--r--", "0/0", "1980-01-01", "oci-layout"],
    ]);
    const pkg = await fromLayout(await OciArchive.open(file));
    // the one image of the file, with no ref name, as pack writes it
    const index = JSON.parse((await execa("tar", ["-xOf", file, "index.json"])).stdout);
    expect(index.manifests).toEqual([
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: pkg.digest,
        size: expect.any(Number),
        platform: { architecture: "amd64", os: "linux" },
      },
    ]);
    const [hello] = pkg.config.rootfs.diff_ids as [string];
    expect(pkg.config).toEqual({
      os: "linux",
      architecture: "amd64",
      created: "1980-01-01T00:00:01.000Z",
      config: { Labels: pkg.labels },
      rootfs: { type: "layers", diff_ids: [hello] },
    });
    expect(pkg.manifest.layers.map((l) => l.mediaType)).toEqual([
      "application/vnd.oci.image.layer.v1.tar+gzip",
    ]);
    expect(pkg.labels).toEqual({
      "io.buildpacks.buildpackage.metadata":
        '{"id":"examples/hello","name":"Hello","version":"0.1.0","stacks":[{"id":"*"}]}',
      "io.buildpacks.buildpack.layers": JSON.stringify({
        "examples/hello": {
          "0.1.0": {
            api: "0.10",
            targets: [{ os: "linux", arch: "amd64" }],
            name: "Hello",
            layerDiffID: hello,
          },
        },
      }),
    });
    expect(await pkg.entries(hello)).toEqual(HELLO_ENTRIES);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("publishes the same image, writes it to an OCI layout, and both read back with buildpack inspect", async () => {
    const file = await fromLayout(await OciArchive.open(join(dir, "hello.cnb")));
    const r = await cnbp(["buildpack", "package", HELLO, "-c", join(dir, "hello.toml"), "--publish"], {
      env: { ...env, CNBP_CACHE_DIR: join(dir, "fresh-cache") },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "written buildpack examples/hello@0.1.0",
      expect.stringMatching(`^buildpackage ${HELLO} written to ${HELLO} \\(<digest>\\), \\d+ bytes sent$`),
    ]);
    expect((await fromRegistry(HELLO)).digest).toBe(file.digest);
    const layout = join(dir, "hello-layout");
    const o = await cnbp(
      ["buildpack", "package", HELLO, "-c", join(dir, "hello.toml"), "--output", `oci:${layout}`],
      {
        env,
      },
    );
    expect(o.exitCode, o.stderr).toBe(0);
    expect((await fromLayout(await OciLayout.open(layout))).digest).toBe(file.digest);

    const expected = {
      kind: "buildpack",
      id: "examples/hello",
      version: "0.1.0",
      name: "Hello",
      targets: [{ os: "linux", arch: "amd64", distros: [] }],
      stacks: [{ id: "*", mixins: [] }],
      modules: [{ id: "examples/hello", version: "0.1.0", name: "Hello" }],
      detectionOrder: [{ group: [{ id: "examples/hello", version: "0.1.0", optional: false }] }],
    };
    expect(await inspect(join(dir, "hello.cnb"))).toEqual({ image: join(dir, "hello.cnb"), ...expected });
    expect(await inspect(HELLO)).toEqual({ image: HELLO, ...expected });
  });

  it("packages a composite with its dependencies from a .cnb file and a .tgz, the .cnb's layer reused", async () => {
    const hello = await fromLayout(await OciArchive.open(join(dir, "hello.cnb")));
    const r = await cnbp(["buildpack", "package", META, "-c", join(dir, "meta.toml"), "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "written buildpack ex/meta@1.0.0",
      "written buildpack ex/never@1.0.0",
      // a .cnb file's layer, the very blob, sent to this repository
      "written buildpack examples/hello@0.1.0",
      expect.stringMatching(`^buildpackage ${META} written to ${META} \\(<digest>\\), \\d+ bytes sent$`),
    ]);
    const meta = await fromRegistry(META);
    const [metaLayer, never, helloLayer] = meta.config.rootfs.diff_ids as [string, string, string];
    expect(helloLayer).toBe(hello.config.rootfs.diff_ids[0]);
    expect(meta.manifest.layers[2]).toEqual(hello.manifest.layers[0]);
    expect(JSON.parse(meta.labels["io.buildpacks.buildpackage.metadata"] as string)).toEqual({
      id: "ex/meta",
      name: "Meta",
      version: "1.0.0",
      // the stacks of its buildpacks, which declare none: any
      stacks: [{ id: "*" }],
    });
    expect(layersOf(meta)).toEqual({
      "ex/meta": {
        "1.0.0": {
          api: "0.10",
          order: [
            {
              group: [
                { id: "examples/hello", version: "0.1.0" },
                { id: "ex/never", version: "1.0.0", optional: true },
              ],
            },
          ],
          name: "Meta",
          layerDiffID: metaLayer,
        },
      },
      "ex/never": { "1.0.0": { api: "0.12", layerDiffID: never } },
      "examples/hello": layersOf(hello)["examples/hello"],
    });
    expect(await meta.entries(metaLayer)).toEqual([
      "/cnb/buildpacks/ex_meta 755 0:0",
      "/cnb/buildpacks/ex_meta/1.0.0 755 0:0",
      "/cnb/buildpacks/ex_meta/1.0.0/buildpack.toml 644 0:0",
    ]);
    const info = await inspect(META);
    expect(info.modules.map((m: { id: string }) => m.id)).toEqual(["ex/meta", "ex/never", "examples/hello"]);
    expect(info.detectionOrder).toEqual([
      {
        group: [
          {
            id: "ex/meta",
            version: "1.0.0",
            optional: false,
            order: [
              {
                group: [
                  { id: "examples/hello", version: "0.1.0", optional: false },
                  { id: "ex/never", version: "1.0.0", optional: true },
                ],
              },
            ],
          },
        ],
      },
    ]);
  });

  it("packages a composite of a buildpackage image, every layer of it reused as it is", async () => {
    const file = join(dir, "outer.cnb");
    const r = await cnbp(["buildpack", "package", file, "-c", join(dir, "outer.toml"), "--format", "file"], {
      env,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const meta = await fromRegistry(META);
    const outer = await fromLayout(await OciArchive.open(file));
    const ids = outer.config.rootfs.diff_ids;
    expect(ids).toHaveLength(4);
    // ex/meta, ex/never, ex/outer, examples/hello
    expect([ids[0], ids[1], ids[3]]).toEqual(meta.config.rootfs.diff_ids);
    expect([0, 1, 3].map((i) => outer.manifest.layers[i])).toEqual(meta.manifest.layers);
    expect(Object.keys(layersOf(outer)).sort()).toEqual([
      "ex/meta",
      "ex/never",
      "ex/outer",
      "examples/hello",
    ]);
    expect(layersOf(outer)["ex/meta"]).toEqual(layersOf(meta)["ex/meta"]);
    expect(JSON.parse(outer.labels["io.buildpacks.buildpackage.metadata"] as string)).toEqual({
      id: "ex/outer",
      version: "2.0.0",
      stacks: [{ id: "*" }],
    });
  });

  it("refuses a composite whose order names a buildpack not packaged, at its line, and writes nothing", async () => {
    const config = join(dir, "missing.toml");
    await writeFile(config, '[buildpack]\nuri = "bp/meta"\n\n[[dependencies]]\nuri = "bp/hello"\n');
    const file = join(dir, "missing.cnb");
    const r = await cnbp(["buildpack", "package", file, "-c", config], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:2: buildpack.uri composite buildpack ex/meta@1.0.0's order names buildpack ex/never@1.0.0, which is not among the [[dependencies]]`,
    );
    expect(await readdir(dir)).not.toContain("missing.cnb");
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("refuses a dependency no order names, and a buildpackage as the buildpack itself", async () => {
    const unused = join(dir, "unused.toml");
    await writeFile(unused, '[buildpack]\nuri = "bp/hello"\n\n[[dependencies]]\nuri = "never.tgz"\n');
    const r = await cnbp(["buildpack", "package", join(dir, "unused.cnb"), "-c", unused], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${unused}:5: dependencies[0].uri buildpack ex/never@1.0.0 is in no order of examples/hello@0.1.0 or its dependencies: a buildpackage holds only buildpacks its entrypoint can run`,
    );
    const image = join(dir, "image.toml");
    await writeFile(image, `[buildpack]\nuri = "docker://${HELLO}"\n`);
    const i = await cnbp(["buildpack", "package", join(dir, "image.cnb"), "-c", image], { env });
    expect(i.exitCode).toBe(1);
    expect(i.stderr).toBe(
      `error: ${image}:2: buildpack.uri "docker://${HELLO}" is an image: give the buildpack's directory or an archive of it (a buildpackage goes under [[dependencies]])`,
    );
    const ext = await cnbp(["buildpack", "package", join(dir, "ext.cnb"), "-c", join(dir, "ext.toml")], {
      env,
    });
    expect(ext.exitCode).toBe(1);
    expect(ext.stderr).toBe(
      `error: ${join(dir, "ext.toml")}:1: extension is for \`cnbp extension package\`: \`cnbp buildpack package\` needs [buildpack] uri`,
    );
    expect((await readdir(dir)).filter((f) => f.endsWith(".cnb")).sort()).toEqual(["hello.cnb", "outer.cnb"]);
  });

  it("refuses a urn:cnb:registry dependency, naming its line and what to give instead", async () => {
    const config = join(dir, "urn.toml");
    await writeFile(
      config,
      '[buildpack]\nuri = "bp/meta"\n\n[[dependencies]]\nuri = "urn:cnb:registry:examples/hello"\n',
    );
    const r = await cnbp(["buildpack", "package", join(dir, "urn.cnb"), "-c", config], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:5: dependencies[0].uri "urn:cnb:registry:examples/hello" is a buildpack registry id, and cnbp reaches no buildpack registry: give the buildpackage the registry lists for examples/hello as docker://<image>, or the buildpack's directory or .tgz`,
    );
    expect(await readdir(dir)).not.toContain("urn.cnb");
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("packages for the platform --target names, which package.toml's [[targets]] must include", async () => {
    const config = join(dir, "arm.toml");
    await writeFile(config, '[buildpack]\nuri = "bp/hello"\n[[targets]]\nos = "linux"\narch = "arm64"\n');
    const file = join(dir, "arm.cnb");
    const r = await cnbp(["buildpack", "package", file, "-c", config], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:3: targets (linux/arm64) does not include linux/amd64, the platform packaged for: give one with --target`,
    );
    const t = await cnbp(["buildpack", "package", file, "-c", config, "--target", "linux/arm64"], { env });
    expect(t.exitCode, t.stderr).toBe(0);
    const pkg = await fromLayout(await OciArchive.open(file));
    expect([pkg.config.os, pkg.config.architecture]).toEqual(["linux", "arm64"]);
    await rm(file);
  });

  it("saves an image into the driver's image store without --publish or --output, and never publishes a file", async () => {
    const config = join(dir, "hello.toml");
    const stored = `localhost/cnbp-test/${RUN_ID}/stored-package:1`;
    const r = await cnbp(["buildpack", "package", stored, "-c", config, "--driver", "podman"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(
      new RegExp(
        `^buildpackage ${stored.replace(/[.:/]/g, "\\$&")} written to podman's image store \\(sha256:[0-9a-f]{64}\\), \\d+ bytes sent$`,
      ),
    );
    const labels = JSON.parse(
      await engine("podman", ["image", "inspect", "--format", "{{json .Labels}}", stored]),
    );
    expect(Object.keys(labels)).toContain("io.buildpacks.buildpackage.metadata");
    await engine("podman", ["rmi", stored]);
    const f = await cnbp(["buildpack", "package", "x.cnb", "-c", config, "--publish"], { env });
    expect(f.exitCode).toBe(2);
    expect(f.stderr).toBe(
      "error: buildpack package: --publish is for images, not --format file: the file goes where <name> says",
    );
    const format = await cnbp(["buildpack", "package", "x", "-c", config, "-f", "zip"], { env });
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toContain("error: option '-f, --format <format>' argument 'zip' is invalid");
    // like pack, a file name without an extension gets .cnb
    const named = await cnbp(["buildpack", "package", join(dir, "plain"), "-c", config, "-f", "file"], {
      env,
    });
    expect(named.exitCode, named.stderr).toBe(0);
    expect(await readdir(dir)).toContain("plain.cnb");
  });
});

describe("cnbp extension package", () => {
  it("writes an extension as a .cnb file with the extension layers label", async () => {
    const file = join(dir, "tools.cnb");
    const r = await cnbp(["extension", "package", file, "-c", join(dir, "ext.toml")], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "written extension ex/tools@1.0.0",
      expect.stringMatching(`^extension package ${file} written to ${file} \\(<digest>\\), \\d+ bytes sent$`),
    ]);
    const pkg = await fromLayout(await OciArchive.open(file));
    const [tools] = pkg.config.rootfs.diff_ids as [string];
    expect(pkg.labels).toEqual({
      "io.buildpacks.buildpackage.metadata":
        '{"id":"ex/tools","version":"1.0.0","homepage":"https://example.com/tools","stacks":null}',
      "io.buildpacks.extension.layers": JSON.stringify({
        "ex/tools": { "1.0.0": { api: "0.12", homepage: "https://example.com/tools", layerDiffID: tools } },
      }),
    });
    expect(await pkg.entries(tools)).toEqual([
      "/cnb/extensions/ex_tools 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0/bin 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0/bin/detect 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0/extension.toml 644 0:0",
    ]);
    const info = await inspect(file);
    expect(info).toMatchObject({ kind: "extension", id: "ex/tools", version: "1.0.0", stacks: [] });
  });
});

describe("packages in cnbp builder create", () => {
  it("puts a docker:// and a .cnb package's layers in the builder as they are, and its detector runs them", async () => {
    const config = join(dir, "builder.toml");
    await writeFile(
      config,
      [
        `[[buildpacks]]\nuri = "docker://${META}"`,
        '[[buildpacks]]\nuri = "hello.cnb"',
        // the same buildpack from its directory, made again without the cache: the very same layer
        '[[buildpacks]]\nuri = "bp/hello"',
        '[[order]]\n[[order.group]]\nid = "ex/meta"',
        stackTables("busybox"),
        "",
      ].join("\n"),
    );
    const r = await cnbp(["builder", "create", BUILDER, "-c", config, "--publish"], {
      env: { ...env, CNBP_CACHE_DIR: join(dir, "builder-cache") },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const meta = await fromRegistry(META);
    const builder = await fromRegistry(BUILDER);
    expect(layersOf(builder)).toEqual(layersOf(meta));
    for (const [i, diffId] of meta.config.rootfs.diff_ids.entries()) {
      const at = builder.config.rootfs.diff_ids.indexOf(diffId);
      expect(builder.manifest.layers[at]).toEqual(meta.manifest.layers[i]);
    }

    pulled.push(BUILDER);
    expect(await detectWithBuilder(BUILDER, dir)).toBe(
      '[[group]]\nid = "examples/hello"\nversion = "0.1.0"\napi = "0.10"\n',
    );
  });
});
