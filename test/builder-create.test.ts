/**
 * `cnbp builder create` on the busybox test stack: buildpacks from a directory and a .tgz, an extension,
 * cnbp's own lifecycle or one from a docker:// image; the builder read back from the registry layer by layer
 * and label by label, pulled into Podman, and its detector run on the example app.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  lifecycleApis,
  lifecycleToml,
  MediaType,
  parseReference,
  parseSpecOrThrow,
  RegistryClient,
  RegistryImageWriter,
  writeDirLayer,
} from "@cnbp/core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cnbp,
  detectWithBuilder,
  engine,
  inRegistry,
  REGISTRY,
  REPO_ROOT,
  RUN_ID,
  readRegistryImage as readImage,
  STACKS,
  writeFiles,
  writtenLines,
} from "#test-utils";

const client = new RegistryClient();
const REPO = `${REGISTRY}/cnbp-test/${RUN_ID}`;
const BUILDER = `${REPO}/builder:1`;
const LIFECYCLE_IMAGE = `${REPO}/lifecycle:1`;
const BUILD_IMAGE = inRegistry(STACKS.busybox.build);
const RUN_IMAGE = inRegistry(STACKS.busybox.run);
const LIFECYCLE_TREE = join(REPO_ROOT, "packages/lifecycle/dist/cnb-lifecycle");

let dir: string;
let env: Record<string, string>;
const pulled: string[] = [];

async function builderToml(name: string, extra = "", order = 'id = "examples/hello"') {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      'description = "e2e builder"',
      '[[buildpacks]]\nuri = "bp/hello"',
      '[[buildpacks]]\nuri = "never.tgz"',
      '[[extensions]]\nuri = "ext/tools"',
      `[[order]]\n[[order.group]]\n${order}\n[[order.group]]\nid = "ex/never"\noptional = true`,
      '[[order-extensions]]\n[[order-extensions.group]]\nid = "ex/tools"',
      `[build]\nimage = "${BUILD_IMAGE}"`,
      `[run]\n[[run.images]]\nimage = "${RUN_IMAGE}"\nmirrors = ["${REGISTRY}/mirror/run:latest"]`,
      extra,
      "",
    ].join("\n"),
  );
  return file;
}

/** The builder's detector on the example app: group.toml (the builder stays in Podman until the end). */
async function detect(image: string): Promise<string> {
  pulled.push(image);
  return detectWithBuilder(image, dir);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-builder-e2e-"));
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await writeFiles(dir, {
    // a buildpack that never passes, given as a .tgz of its root
    "never/buildpack.toml": 'api = "0.12"\n[buildpack]\nid = "ex/never"\nversion = "1.0.0"\n',
    "never/bin/detect": "#!/bin/sh\nexit 100\n",
    "never/bin/build": "#!/bin/sh\nexit 1\n",
    "ext/tools/extension.toml": 'api = "0.12"\n[extension]\nid = "ex/tools"\nversion = "1.0.0"\n',
    "ext/tools/bin/detect": "#!/bin/sh\nexit 100\n",
  });
  await execa("tar", ["-czf", join(dir, "never.tgz"), "-C", join(dir, "never"), "."]);
  await mkdir(join(dir, "tmp"));
  env = { CNBP_CACHE_DIR: join(dir, "cache"), TMPDIR: join(dir, "tmp") };
});

afterAll(async () => {
  for (const image of pulled) await execa("podman", ["rmi", "-f", image], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp builder create", () => {
  it("publishes a builder with the layers and labels of the distribution spec", async () => {
    const config = await builderToml("builder.toml");
    const r = await cnbp(["builder", "create", BUILDER, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(writtenLines(r.stdout)).toEqual([
      "written directories",
      "written lifecycle 0.1.0",
      "written buildpack ex/never@1.0.0",
      "written buildpack examples/hello@0.1.0",
      "written extension ex/tools@1.0.0",
      "written order",
      "written run",
      expect.stringMatching(
        new RegExp(`^builder ${BUILDER} written to ${BUILDER} \\(sha256:[a-f0-9]{64}\\), \\d+ bytes sent$`),
      ),
    ]);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);

    const base = await readImage(BUILD_IMAGE);
    const b = await readImage(BUILDER);
    const ids = b.config.rootfs.diff_ids;
    expect(ids.slice(0, base.config.rootfs.diff_ids.length)).toEqual(base.config.rootfs.diff_ids);
    const added = ids.slice(base.config.rootfs.diff_ids.length);
    expect(added).toHaveLength(7);
    expect(b.manifest.mediaType).toBe(MediaType.ociManifest);
    expect(b.config.config?.WorkingDir).toBe("/layers");
    expect(b.config.config?.User).toBe(base.config.config?.User);
    expect(b.config.config?.Env).toEqual(base.config.config?.Env);
    expect(b.config.config?.Env).toEqual(expect.arrayContaining(["CNB_USER_ID=1000", "CNB_GROUP_ID=1000"]));
    // the build image's labels carry over
    for (const [k, v] of Object.entries(base.labels)) expect(b.labels[k]).toBe(v);

    const [dirs, lifecycle, never, hello, tools, order, run] = added as string[];
    const layers = JSON.parse(b.labels["io.buildpacks.buildpack.layers"] as string);
    expect(layers).toEqual({
      "examples/hello": {
        "0.1.0": {
          api: "0.10",
          layerDiffID: hello,
          targets: [{ os: "linux", arch: "amd64" }],
          name: "Hello",
        },
      },
      "ex/never": { "1.0.0": { api: "0.12", layerDiffID: never } },
    });
    expect(JSON.parse(b.labels["io.buildpacks.extension.layers"] as string)).toEqual({
      "ex/tools": { "1.0.0": { api: "0.12", layerDiffID: tools } },
    });
    expect(JSON.parse(b.labels["io.buildpacks.buildpack.order"] as string)).toEqual([
      {
        group: [
          { id: "examples/hello", version: "0.1.0" },
          { id: "ex/never", version: "1.0.0", optional: true },
        ],
      },
    ]);
    expect(JSON.parse(b.labels["io.buildpacks.buildpack.order-extensions"] as string)).toEqual([
      { group: [{ id: "ex/tools", version: "1.0.0" }] },
    ]);
    const lifecycleText = await readFile(join(LIFECYCLE_TREE, "lifecycle.toml"), "utf8");
    const descriptor = parseSpecOrThrow(lifecycleToml, lifecycleText, "lifecycle.toml");
    const supported = (kind: "buildpack" | "platform") => lifecycleApis(descriptor, kind)?.supported ?? [];
    const runImages = [{ image: RUN_IMAGE, mirrors: [`${REGISTRY}/mirror/run:latest`] }];
    expect(JSON.parse(b.labels["io.buildpacks.builder.metadata"] as string)).toEqual({
      description: "e2e builder",
      buildpacks: [
        { id: "ex/never", version: "1.0.0" },
        { id: "examples/hello", version: "0.1.0", name: "Hello" },
      ],
      extensions: [{ id: "ex/tools", version: "1.0.0" }],
      stack: { runImage: runImages[0] },
      images: runImages,
      lifecycle: {
        version: "0.1.0",
        api: { buildpack: supported("buildpack")[0], platform: supported("platform")[0] },
        apis: {
          buildpack: { deprecated: [], supported: supported("buildpack") },
          platform: { deprecated: [], supported: supported("platform") },
        },
      },
      createdBy: { name: "cnbp", version: "0.1.0" },
    });

    expect((await b.entries(dirs as string)).entries).toEqual([
      "/cnb 755 0:0",
      "/cnb/build-config 755 0:0",
      "/cnb/build-config/env 755 0:0",
      "/cnb/buildpacks 755 0:0",
      "/cnb/extensions 755 0:0",
      "/layers 755 1000:1000",
      "/lifecycle 777 0:0 -> /cnb/lifecycle",
      "/platform 755 0:0",
      "/platform/env 755 0:0",
      "/workspace 755 1000:1000",
    ]);
    expect((await b.entries(hello as string)).entries).toEqual([
      "/cnb/buildpacks/examples_hello 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/bin 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/bin/build 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/bin/detect 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/buildpack.toml 644 0:0",
    ]);
    expect((await b.entries(never as string)).entries).toEqual([
      "/cnb/buildpacks/ex_never 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/bin 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/bin/build 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/bin/detect 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/buildpack.toml 644 0:0",
    ]);
    expect((await b.entries(tools as string)).entries[0]).toBe("/cnb/extensions/ex_tools 755 0:0");
    const lc = await b.entries(lifecycle as string);
    expect(lc.entries).toEqual(
      expect.arrayContaining(["/cnb/lifecycle 755 0:0", "/cnb/lifecycle/detector 777 0:0 -> lifecycle"]),
    );
    expect(lc.files["/cnb/lifecycle/lifecycle.toml"]).toBe(lifecycleText);
    expect((await b.entries(order as string)).files).toEqual({
      "/cnb/order.toml": [
        '[[order]]\n[[order.group]]\nid = "examples/hello"\nversion = "0.1.0"\n',
        '[[order.group]]\nid = "ex/never"\nversion = "1.0.0"\noptional = true\n',
        '[[order-extensions]]\n[[order-extensions.group]]\nid = "ex/tools"\nversion = "1.0.0"\n',
      ].join("\n"),
    });
    expect((await b.entries(run as string)).files).toEqual({
      "/cnb/run.toml": `[[images]]\nimage = "${RUN_IMAGE}"\nmirrors = [ "${REGISTRY}/mirror/run:latest" ]\n`,
    });
  });

  it("runs its detector in Podman on the example app and finds the hello group", async () => {
    expect(await detect(BUILDER)).toBe('[[group]]\nid = "examples/hello"\nversion = "0.1.0"\napi = "0.10"\n');
  });

  it("gives the same buildpack the same layer in every builder, and sends only what changed", async () => {
    const first = await readImage(BUILDER);
    // no shared cache: the layers are made again, byte for byte the same
    const fresh = { ...env, CNBP_CACHE_DIR: join(dir, "cache2") };
    const layout = join(dir, "layout");
    const r = await cnbp(
      [
        "builder",
        "create",
        BUILDER,
        "--config",
        join(dir, "builder.toml"),
        "--output",
        `oci:${layout}`,
        "--json",
      ],
      { env: fresh },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { digest: string; layers: { what: string; diffId: string }[] };
    expect(out.digest).toBe(first.digest);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([first.digest]);

    // a changed buildpack: only its layer, the order (same) aside, is sent again
    await writeFile(join(dir, "bp/hello/bin/detect"), "#!/bin/sh\n# changed\n[ -f hello.txt ] || exit 100\n");
    const again = await cnbp(
      ["builder", "create", BUILDER, "--config", join(dir, "builder.toml"), "--publish", "--json"],
      { env },
    );
    expect(again.exitCode, again.stderr).toBe(0);
    const sent = (JSON.parse(again.stdout) as { layers: { what: string; how: string }[] }).layers
      .filter((l) => l.how !== "exists")
      .map((l) => l.what);
    expect(sent).toEqual(["buildpack examples/hello@0.1.0"]);
  });

  it("takes the lifecycle from a docker:// image's /cnb/lifecycle layer", async () => {
    const file = join(dir, "lifecycle.tgz");
    const layer = await writeDirLayer(LIFECYCLE_TREE, "/cnb/lifecycle", file, {
      parents: "none",
      owner: { uid: 0, gid: 0 },
    });
    await new RegistryImageWriter(client).save(
      {
        format: "oci",
        config: {
          os: "linux",
          architecture: "amd64",
          config: {},
          rootfs: { type: "layers", diff_ids: [layer.diffId] },
        },
        layers: [
          {
            descriptor: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
            diffId: layer.diffId,
            origin: { kind: "file", path: file },
          },
        ],
      },
      [LIFECYCLE_IMAGE],
    );
    const config = await builderToml(
      "builder-image-lc.toml",
      `[lifecycle]\nuri = "docker://${LIFECYCLE_IMAGE}"`,
    );
    const name = `${REPO}/builder-image-lc:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const b = await readImage(name);
    const base = await readImage(BUILD_IMAGE);
    expect(b.config.rootfs.diff_ids[base.config.rootfs.diff_ids.length + 1]).toBe(layer.diffId);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    await engine("podman", ["pull", "--tls-verify=false", name]);
    pulled.push(name);
    // the tree is the image's: the lifecycle starts from it
    const usage = await execa("podman", ["run", "--rm", name, "/cnb/lifecycle/lifecycle"], { reject: false });
    expect(usage.stderr).toContain("usage: lifecycle <phase> [flags]");
  });

  it("flattens the buildpacks and extensions into one reproducible layer with --flatten, but those excluded", async () => {
    const config = join(dir, "builder.toml");
    const name = `${REPO}/builder-flat:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--flatten", "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(writtenLines(r.stdout)).toEqual([
      "written directories",
      "written lifecycle 0.1.0",
      "written flattened 2 buildpacks, 1 extension",
      "written order",
      "written run",
      expect.stringMatching(
        new RegExp(`^builder ${name} written to ${name} \\(sha256:[a-f0-9]{64}\\), \\d+ bytes sent$`),
      ),
    ]);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);

    // one layer per module in the unflattened builder, the same entries and files in one here, in order
    const base = await readImage(BUILD_IMAGE);
    const unflat = await readImage(BUILDER);
    const [, , never, hello, tools] = unflat.config.rootfs.diff_ids.slice(base.config.rootfs.diff_ids.length);
    const b = await readImage(name);
    const added = b.config.rootfs.diff_ids.slice(base.config.rootfs.diff_ids.length);
    expect(added).toHaveLength(5);
    const [dirs, lifecycle, flat, order, run] = added as string[];
    const unflatAdded = unflat.config.rootfs.diff_ids.slice(base.config.rootfs.diff_ids.length);
    expect([dirs, lifecycle, order, run]).toEqual([0, 1, 5, 6].map((i) => unflatAdded[i]));
    const flatLayer = await b.entries(flat as string);
    expect(flatLayer.entries).toEqual([
      "/cnb/buildpacks/ex_never 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/bin 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/bin/build 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/bin/detect 755 0:0",
      "/cnb/buildpacks/ex_never/1.0.0/buildpack.toml 644 0:0",
      "/cnb/buildpacks/examples_hello 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/bin 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/bin/build 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/bin/detect 755 0:0",
      "/cnb/buildpacks/examples_hello/0.1.0/buildpack.toml 644 0:0",
      "/cnb/extensions/ex_tools 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0/bin 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0/bin/detect 755 0:0",
      "/cnb/extensions/ex_tools/1.0.0/extension.toml 644 0:0",
    ]);
    const [ownNever, ownHello, ownTools] = await Promise.all(
      [never, hello, tools].map((id) => unflat.entries(id as string)),
    );
    const own = [ownNever, ownHello, ownTools] as { entries: string[]; files: Record<string, string> }[];
    expect(flatLayer.entries).toEqual(own.flatMap((l) => l.entries));
    expect(flatLayer.files).toEqual(Object.assign({}, ...own.map((l) => l.files)));
    expect(flatLayer.files["/cnb/buildpacks/examples_hello/0.1.0/bin/detect"]).toBe(
      await readFile(join(dir, "bp/hello/bin/detect"), "utf8"),
    );

    expect(JSON.parse(b.labels["io.buildpacks.buildpack.layers"] as string)).toEqual({
      "examples/hello": {
        "0.1.0": { api: "0.10", layerDiffID: flat, targets: [{ os: "linux", arch: "amd64" }], name: "Hello" },
      },
      "ex/never": { "1.0.0": { api: "0.12", layerDiffID: flat } },
    });
    expect(JSON.parse(b.labels["io.buildpacks.extension.layers"] as string)).toEqual({
      "ex/tools": { "1.0.0": { api: "0.12", layerDiffID: flat } },
    });
    for (const label of ["io.buildpacks.builder.metadata", "io.buildpacks.buildpack.order"]) {
      expect(b.labels[label]).toBe(unflat.labels[label]);
    }

    // made again with no shared cache: the same layer, the same builder
    const layout = join(dir, "layout-flat");
    const again = await cnbp(
      ["builder", "create", name, "--config", config, "--flatten", "--output", `oci:${layout}`, "--json"],
      { env: { ...env, CNBP_CACHE_DIR: join(dir, "cache-flat") } },
    );
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { digest: string }).digest).toBe(b.digest);

    expect(await detect(name)).toBe('[[group]]\nid = "examples/hello"\nversion = "0.1.0"\napi = "0.10"\n');

    // --flatten-exclude: ex/never keeps its own layer, the same as in the unflattened builder
    const excluded = `${REPO}/builder-flat-exclude:1`;
    const x = await cnbp(
      [
        ...["builder", "create", excluded, "--config", config, "--flatten"],
        ...["--flatten-exclude", "ex/never@1.0.0", "--publish"],
      ],
      { env },
    );
    expect(x.exitCode, x.stderr).toBe(0);
    expect(writtenLines(x.stdout).slice(2, 4)).toEqual([
      "written flattened 1 buildpack, 1 extension",
      "written buildpack ex/never@1.0.0",
    ]);
    const e = await readImage(excluded);
    const eAdded = e.config.rootfs.diff_ids.slice(base.config.rootfs.diff_ids.length);
    expect(eAdded).toHaveLength(6);
    const [, , eFlat, eNever] = eAdded as string[];
    expect(eNever).toBe(never);
    expect((await e.entries(eFlat as string)).entries).toEqual([
      ...(ownHello?.entries ?? []),
      ...(ownTools?.entries ?? []),
    ]);
    expect(JSON.parse(e.labels["io.buildpacks.buildpack.layers"] as string)).toEqual({
      "examples/hello": {
        "0.1.0": {
          api: "0.10",
          layerDiffID: eFlat,
          targets: [{ os: "linux", arch: "amd64" }],
          name: "Hello",
        },
      },
      "ex/never": { "1.0.0": { api: "0.12", layerDiffID: never } },
    });
    expect(JSON.parse(e.labels["io.buildpacks.extension.layers"] as string)).toEqual({
      "ex/tools": { "1.0.0": { api: "0.12", layerDiffID: eFlat } },
    });
    expect(await detect(excluded)).toBe(
      '[[group]]\nid = "examples/hello"\nversion = "0.1.0"\napi = "0.10"\n',
    );
  });

  it("refuses a --flatten-exclude that names no module of the builder, and writes nothing", async () => {
    const name = `${REPO}/builder-flat-bad:1`;
    const config = join(dir, "builder.toml");
    const r = await cnbp(
      [
        ...["builder", "create", name, "--config", config, "--publish"],
        ...["--flatten", "--flatten-exclude", "ex/missing@1.0.0"],
      ],
      { env },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      "error: --flatten-exclude ex/missing@1.0.0: not a buildpack or extension of the builder (it has ex/never@1.0.0, examples/hello@0.1.0, ex/tools@1.0.0)",
    );
    expect(await client.headManifest(parseReference(name))).toBeUndefined();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);

    const format = await cnbp(
      [
        ...[
          "builder",
          "create",
          name,
          "--config",
          config,
          "--publish",
          "--flatten",
          "--flatten-exclude",
          "ex/never",
        ],
      ],
      { env },
    );
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toBe('error: --flatten-exclude "ex/never" must be <id>@<version>');
    const alone = await cnbp(
      ["builder", "create", name, "--config", config, "--publish", "--flatten-exclude", "ex/never@1.0.0"],
      { env },
    );
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toBe("error: builder create: --flatten-exclude is only used with --flatten");
  });

  it("refuses an order entry that names no buildpack, naming the line, and writes nothing", async () => {
    const config = await builderToml("bad.toml", "", 'id = "ex/missing"');
    const name = `${REPO}/bad:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:10: order[0].group[0].id names buildpack ex/missing, which is not in the buildpacks given`,
    );
    expect(await client.headManifest(parseReference(name))).toBeUndefined();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("refuses a urn:cnb:registry buildpack, naming its line and what to give instead, and writes nothing", async () => {
    const config = join(dir, "urn.toml");
    await writeFile(
      config,
      [
        '[[buildpacks]]\nuri = "bp/hello"',
        '[[buildpacks]]\nuri = "urn:cnb:registry:ex/apt@0.1.0"',
        '[[order]]\n[[order.group]]\nid = "examples/hello"',
        `[build]\nimage = "${BUILD_IMAGE}"`,
        `[run]\n[[run.images]]\nimage = "${RUN_IMAGE}"`,
        "",
      ].join("\n"),
    );
    const name = `${REPO}/urn:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:4: buildpacks[1].uri "urn:cnb:registry:ex/apt@0.1.0" is a buildpack registry id, and cnbp reaches no buildpack registry: give the buildpackage the registry lists for ex/apt@0.1.0 as docker://<image>, or the buildpack's directory or .tgz`,
    );
    expect(await client.headManifest(parseReference(name))).toBeUndefined();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);

    await writeFile(
      config,
      (await readFile(config, "utf8")).replace("urn:cnb:registry:ex/apt@0.1.0", "urn:cnb:builder:ex/apt"),
    );
    const other = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toBe(
      `error: ${config}:4: buildpacks[1].uri "urn:cnb:builder:ex/apt" is not a source cnbp can read here: give a docker://<image> buildpackage, a directory, or a .tgz`,
    );
  });

  it("saves the builder into the driver's image store when neither --publish nor --output is given", async () => {
    const name = `localhost/cnbp-test/${RUN_ID}/stored-builder:1`;
    const config = await builderToml("stored.toml");
    const r = await cnbp(["builder", "create", name, "--config", config, "--driver", "podman"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const last = r.stdout.trim().split("\n").at(-1) ?? "";
    expect(last).toMatch(
      new RegExp(
        `^builder ${name.replace(/[.:/]/g, "\\$&")} written to podman's image store \\(sha256:[0-9a-f]{64}\\), \\d+ bytes sent$`,
      ),
    );
    const labels = JSON.parse(
      await engine("podman", ["image", "inspect", "--format", "{{json .Labels}}", name]),
    );
    expect(JSON.parse(labels["io.buildpacks.builder.metadata"]).createdBy.name).toBe("cnbp");
    await engine("podman", ["rmi", name]);
    expect(await readdir(join(dir, "cache"))).not.toContain(expect.stringMatching(/^authored-/));
  });
});
