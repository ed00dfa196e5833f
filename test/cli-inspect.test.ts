/**
 * `cnbp builder inspect` and `cnbp buildpack inspect` as a user runs them, on builder and buildpackage images
 * made here by hand as the distribution spec shapes them (a layer per module, the labels), in the local
 * registry, an OCI layout and a .cnb file; image indexes of them (--platform); and a registry demanding a login.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DockerKeychain,
  type ImageConfig,
  type LayerToWrite,
  LayoutImageWriter,
  RegistryClient,
  RegistryImageWriter,
  saveImageIndex,
  writeLayer,
  writeOciArchive,
} from "@cnbp/core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, REGISTRY, RUN_ID } from "#test-utils";
import {
  type AuthRegistry,
  startAuthRegistry,
} from "../packages/core/src/image/registry/test-support/servers.js";

let dir: string;
let n = 0;
const repo = (name: string) => `${REGISTRY}/cnbp-test/${RUN_ID}/${name}:1`;

interface Module {
  id: string;
  version: string;
  api?: string;
  name?: string;
  homepage?: string;
  order?: { group: { id: string; version: string; optional?: boolean }[] }[];
}

const NODE: Module = {
  id: "example/node",
  version: "1.0.0",
  name: "Node.js",
  homepage: "https://example.com/node",
};
const YARN: Module = { id: "example/yarn", version: "1.2.0" };
const JS: Module = {
  id: "example/js",
  version: "3.0.0",
  name: "JavaScript",
  order: [
    {
      group: [
        { id: "example/node", version: "1.0.0" },
        { id: "example/yarn", version: "1.2.0", optional: true },
      ],
    },
  ],
};
const PROCFILE: Module = {
  id: "example/procfile",
  version: "2.1.0",
  homepage: "https://example.com/procfile",
};
const APT: Module = { id: "example/apt", version: "0.1.0", api: "0.10" };
const TARGET = { os: "linux", arch: "amd64" };

/** A file layer (`/cnb/...` paths), written to a file and described for the image writers. */
async function layer(files: Record<string, string>, dirs: string[] = []): Promise<LayerToWrite> {
  const path = join(dir, `layer-${n++}.tgz`);
  const r = await writeLayer(
    [
      ...dirs.map((d) => ({ kind: "directory" as const, path: d })),
      ...Object.entries(files).map(([p, content]) => ({ kind: "file" as const, path: p, content })),
    ],
    path,
  );
  return {
    descriptor: { mediaType: r.mediaType, digest: r.digest, size: r.size },
    diffId: r.diffId,
    origin: { kind: "file", path },
  };
}

/** A module's layer as pack writes it: `/cnb/<buildpacks|extensions>/<escaped id>/<version>/<descriptor>`. */
function moduleLayer(m: Module, kind: "buildpacks" | "extensions" = "buildpacks"): Promise<LayerToWrite> {
  const root = `/cnb/${kind}/${m.id.replace("/", "_")}`;
  const descriptor = kind === "buildpacks" ? "buildpack.toml" : "extension.toml";
  const table = kind === "buildpacks" ? "buildpack" : "extension";
  const order = (m.order ?? [])
    .map(
      (o) =>
        `[[order]]\n${o.group.map((g) => `[[order.group]]\nid = "${g.id}"\nversion = "${g.version}"\n${g.optional ? "optional = true\n" : ""}`).join("")}`,
    )
    .join("");
  const toml = `api = "${m.api ?? "0.10"}"\n[${table}]\nid = "${m.id}"\nversion = "${m.version}"\n${order}`;
  return layer({ [`${root}/${m.version}/${descriptor}`]: toml }, [root, `${root}/${m.version}`]);
}

/** `io.buildpacks.*.layers`: every module by id and version, with its layer's diffID. */
function layersLabel(modules: readonly Module[], layers: readonly LayerToWrite[]) {
  const label: Record<string, Record<string, unknown>> = {};
  modules.forEach((m, i) => {
    label[m.id] = {
      ...label[m.id],
      [m.version]: {
        api: m.api ?? "0.10",
        layerDiffID: layers[i]?.diffId,
        ...(m.order ? { order: m.order } : { targets: [TARGET] }),
        ...(m.homepage ? { homepage: m.homepage } : {}),
        ...(m.name ? { name: m.name } : {}),
      },
    };
  });
  return JSON.stringify(label);
}

const info = (m: Module) => ({
  id: m.id,
  version: m.version,
  ...(m.name ? { name: m.name } : {}),
  ...(m.homepage ? { homepage: m.homepage } : {}),
});

function imageConfig(layers: readonly LayerToWrite[], labels: Record<string, string>): ImageConfig {
  return {
    os: "linux",
    architecture: "amd64",
    config: { User: "1000:1000", WorkingDir: "/layers", Labels: labels },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  };
}

const BUILDPACKS = [NODE, YARN, JS, PROCFILE];
const APIS = {
  buildpack: { deprecated: [], supported: ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"] },
  platform: {
    deprecated: ["0.7"],
    supported: ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"],
  },
};

/** A builder: a layer per module, order.toml and run.toml, and the labels a platform reads. */
async function builderImage(overrides: Record<string, string> = {}) {
  const bpLayers = await Promise.all(BUILDPACKS.map((m) => moduleLayer(m)));
  const extLayers = [await moduleLayer(APT, "extensions")];
  const order = [
    {
      group: [
        { id: JS.id, version: JS.version },
        { id: PROCFILE.id, version: PROCFILE.version, optional: true },
      ],
    },
    { group: [{ id: PROCFILE.id, version: PROCFILE.version }] },
  ];
  const orderExtensions = [{ group: [{ id: APT.id, version: APT.version, optional: true }] }];
  const runImages = [
    { image: `${REGISTRY}/cnbp-test/run:bookworm`, mirrors: ["mirror.example/run:bookworm"] },
  ];
  const files = await layer({
    "/cnb/order.toml": '[[order]]\n[[order.group]]\nid = "example/js"\nversion = "3.0.0"\n',
    "/cnb/run.toml": `[[images]]\nimage = "${runImages[0]?.image}"\nmirrors = ["mirror.example/run:bookworm"]\n`,
  });
  const layers = [...bpLayers, ...extLayers, files];
  const labels = {
    "io.buildpacks.base.distro.name": "debian",
    "io.buildpacks.base.distro.version": "12",
    "io.buildpacks.builder.metadata": JSON.stringify({
      description: "Debian bookworm with JavaScript buildpacks",
      buildpacks: BUILDPACKS.map(info),
      extensions: [info(APT)],
      stack: { runImage: runImages[0] },
      images: runImages,
      lifecycle: { version: "0.21.0", api: { buildpack: "0.7", platform: "0.7" }, apis: APIS },
      createdBy: { name: "cnbp", version: "0.1.0" },
    }),
    "io.buildpacks.buildpack.layers": layersLabel(BUILDPACKS, bpLayers),
    "io.buildpacks.extension.layers": layersLabel([APT], extLayers),
    "io.buildpacks.buildpack.order": JSON.stringify(order),
    "io.buildpacks.buildpack.order-extensions": JSON.stringify(orderExtensions),
    ...overrides,
  };
  return { config: imageConfig(layers, labels), layers, format: "oci" as const };
}

/** The composite example/js packaged with its two dependencies. */
async function buildpackageImage(overrides: Record<string, string> = {}) {
  const modules = [JS, NODE, YARN];
  const layers = await Promise.all(modules.map((m) => moduleLayer(m)));
  const labels = {
    "io.buildpacks.buildpackage.metadata": JSON.stringify({
      ...info(JS),
      homepage: "https://example.com/js",
      targets: [TARGET],
    }),
    "io.buildpacks.buildpack.layers": layersLabel(modules, layers),
    ...overrides,
  };
  return { config: imageConfig(layers, labels), layers, format: "oci" as const };
}

const registry = new RegistryImageWriter(new RegistryClient());
const BUILDER = repo("builder");
const PACKAGE = repo("js-package");
let builderLayout: string;
let packageFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-inspect-"));
  const builder = await builderImage();
  const pkg = await buildpackageImage();
  await registry.save(builder, [BUILDER]);
  await registry.save(pkg, [PACKAGE]);
  builderLayout = join(dir, "builder-layout");
  await new LayoutImageWriter(builderLayout, (root) => root).save(builder, ["example.com/builder:1"]);
  const packageLayout = join(dir, "package-layout");
  await new LayoutImageWriter(packageLayout, (root) => root).save(pkg, ["example.com/js:3.0.0"]);
  await mkdir(join(dir, "files"));
  packageFile = join(dir, "files", "js.cnb");
  await writeOciArchive(packageLayout, packageFile);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const builderView = (name: string) =>
  [
    `Inspecting builder: ${name}`,
    "",
    "Description: Debian bookworm with JavaScript buildpacks",
    "",
    "Created By:",
    "  Name: cnbp",
    "  Version: 0.1.0",
    "",
    "Target:",
    "  linux/amd64 (debian 12)",
    "",
    "Lifecycle:",
    "  Version: 0.21.0",
    "  Buildpack APIs:",
    "    Deprecated: (none)",
    "    Supported: 0.7, 0.8, 0.9, 0.10, 0.11, 0.12",
    "  Platform APIs:",
    "    Deprecated: 0.7",
    "    Supported: 0.7, 0.8, 0.9, 0.10, 0.11, 0.12, 0.13, 0.14, 0.15",
    "",
    "Run Images:",
    `  ${REGISTRY}/cnbp-test/run:bookworm`,
    `  ${"mirror.example/run:bookworm".padEnd(`${REGISTRY}/cnbp-test/run:bookworm`.length + 4)}(mirror)`,
    "",
    "Buildpacks:",
    "  ID                  NAME          VERSION    HOMEPAGE",
    "  example/node        Node.js       1.0.0      https://example.com/node",
    "  example/yarn        -             1.2.0      -",
    "  example/js          JavaScript    3.0.0      -",
    "  example/procfile    -             2.1.0      https://example.com/procfile",
    "",
    "Detection Order:",
    " ├ Group #1:",
    " │  ├ example/js@3.0.0",
    " │  │  └ Group #1:",
    " │  │     ├ example/node@1.0.0",
    " │  │     └ example/yarn@1.2.0    (optional)",
    " │  └ example/procfile@2.1.0      (optional)",
    " └ Group #2:",
    "    └ example/procfile@2.1.0",
    "",
    "Extensions:",
    "  ID             NAME    VERSION    HOMEPAGE",
    "  example/apt    -       0.1.0      -",
    "",
    "Detection Order (Extensions):",
    " └ Group #1:",
    "    └ example/apt@0.1.0    (optional)",
    "",
  ].join("\n");

describe("cnbp builder inspect", () => {
  it("shows a builder in a registry: creator, target, lifecycle APIs, run images, modules and both orders", async () => {
    const r = await cnbp(["builder", "inspect", BUILDER]);
    expect(r).toEqual({ exitCode: 0, stdout: builderView(BUILDER).trimEnd(), stderr: "" });
  });

  it("reads the same builder from an OCI layout", async () => {
    const name = `oci:${builderLayout}`;
    const r = await cnbp(["builder", "inspect", name]);
    expect(r).toEqual({ exitCode: 0, stdout: builderView(name).trimEnd(), stderr: "" });
  });

  it("opens composites only as deep as --depth says", async () => {
    const r = await cnbp(["builder", "inspect", "--depth", "0", BUILDER]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(
      [
        "Detection Order:",
        " ├ Group #1:",
        " │  ├ example/js@3.0.0",
        " │  └ example/procfile@2.1.0    (optional)",
        " └ Group #2:",
        "    └ example/procfile@2.1.0",
        "",
      ].join("\n"),
    );
  });

  it("prints the same data as JSON with --output json", async () => {
    const r = await cnbp(["builder", "inspect", "--output", "json", BUILDER]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    const node = { id: NODE.id, version: NODE.version, optional: false };
    const procfile = { id: PROCFILE.id, version: PROCFILE.version };
    expect(JSON.parse(r.stdout)).toEqual({
      image: BUILDER,
      description: "Debian bookworm with JavaScript buildpacks",
      createdBy: { name: "cnbp", version: "0.1.0" },
      target: { os: "linux", arch: "amd64", distros: [{ name: "debian", version: "12" }] },
      lifecycle: { version: "0.21.0", buildpackApis: APIS.buildpack, platformApis: APIS.platform },
      runImages: [{ image: `${REGISTRY}/cnbp-test/run:bookworm`, mirrors: ["mirror.example/run:bookworm"] }],
      buildpacks: BUILDPACKS.map(info),
      extensions: [info(APT)],
      detectionOrder: [
        {
          group: [
            {
              id: JS.id,
              version: JS.version,
              optional: false,
              order: [{ group: [node, { id: YARN.id, version: YARN.version, optional: true }] }],
            },
            { ...procfile, optional: true },
          ],
        },
        { group: [{ ...procfile, optional: false }] },
      ],
      extensionOrder: [{ group: [{ id: APT.id, version: APT.version, optional: true }] }],
    });
  });

  it("refuses a buildpackage, naming the image and the label, and says which command reads it", async () => {
    const r = await cnbp(["builder", "inspect", PACKAGE]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: [
        `error: ${PACKAGE}: not a builder: the image has no io.buildpacks.builder.metadata label`,
        `  hint: it is a buildpackage: run \`cnbp buildpack inspect ${PACKAGE}\``,
      ].join("\n"),
    });
  });

  it("names the image, the label and the field of a label that does not validate", async () => {
    const name = repo("bad-builder");
    const bad = await builderImage({
      "io.buildpacks.builder.metadata": JSON.stringify({ lifecycle: { version: 21 } }),
    });
    await registry.save(bad, [name]);
    const r = await cnbp(["builder", "inspect", name]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${name}: label io.buildpacks.builder.metadata: lifecycle.version must be a string, found an integer 21 (quote it: "21")`,
    });
  });

  it("says when the registry has no such image", async () => {
    const name = repo("no-such-builder");
    const r = await cnbp(["builder", "inspect", name]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${name}: no such image in the registry`,
    });
  });

  it("reads a name without a registry host from the driver's image store, and says when it is not there", async () => {
    const stored = `localhost/cnbp-test/${RUN_ID}/stored-builder:1`;
    await execa("podman", ["pull", "--quiet", "--tls-verify=false", BUILDER]);
    await execa("podman", ["tag", BUILDER, stored]);
    try {
      const r = await cnbp(["builder", "inspect", stored, "--driver", "podman"]);
      expect(r).toEqual({ exitCode: 0, stdout: builderView(stored).trimEnd(), stderr: "" });
    } finally {
      await execa("podman", ["rmi", stored, BUILDER], { reject: false });
    }
    const missing = await cnbp(["builder", "inspect", "my/builder", "--driver", "podman"]);
    expect(missing).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: [
        "error: my/builder: no such image in podman's image store",
        "  hint: for Docker Hub, write docker.io/my/builder",
        "  hint: for a registry, give its host: 127.0.0.1:5000/<repository>[:<tag>]",
        "  hint: for an OCI layout directory, write oci:<dir>; for a .cnb or oci-archive file, give its path",
      ].join("\n"),
    });
  });

  it("refuses a --depth that is not a whole number and an unknown --output (exit 2)", async () => {
    const depth = await cnbp(["builder", "inspect", "--depth", "-1", BUILDER]);
    expect(depth.exitCode).toBe(2);
    expect(depth.stderr).toContain(
      "error: option '-d, --depth <levels>' argument '-1' is invalid. expected a whole number of levels (0 or more)",
    );
    const output = await cnbp(["builder", "inspect", "--output", "yaml", BUILDER]);
    expect(output.exitCode).toBe(2);
    expect(output.stderr).toContain(
      "error: option '-o, --output <format>' argument 'yaml' is invalid. Allowed choices are human, json.",
    );
  });
});

const packageView = (name: string) =>
  [
    `Inspecting buildpack: ${name}`,
    "",
    "ID: example/js",
    "Version: 3.0.0",
    "Name: JavaScript",
    "Homepage: https://example.com/js",
    "",
    "Targets:",
    "  linux/amd64",
    "",
    "Buildpacks:",
    "  ID              NAME          VERSION    HOMEPAGE",
    "  example/js      JavaScript    3.0.0      https://example.com/js",
    "  example/node    Node.js       1.0.0      https://example.com/node",
    "  example/yarn    -             1.2.0      -",
    "",
    "Detection Order:",
    " └ Group #1:",
    "    └ example/js@3.0.0",
    "       └ Group #1:",
    "          ├ example/node@1.0.0",
    "          └ example/yarn@1.2.0    (optional)",
  ].join("\n");

describe("cnbp buildpack inspect", () => {
  it("shows a buildpackage in a registry: its buildpack, targets, the buildpacks packaged and the order", async () => {
    const r = await cnbp(["buildpack", "inspect", PACKAGE]);
    expect(r).toEqual({ exitCode: 0, stdout: packageView(PACKAGE), stderr: "" });
  });

  it("reads a .cnb file", async () => {
    const r = await cnbp(["buildpack", "inspect", packageFile]);
    expect(r).toEqual({ exitCode: 0, stdout: packageView(packageFile), stderr: "" });
  });

  it("prints the same data as JSON with -o json", async () => {
    const r = await cnbp(["buildpack", "inspect", "-o", "json", packageFile]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      image: packageFile,
      kind: "buildpack",
      id: "example/js",
      version: "3.0.0",
      name: "JavaScript",
      homepage: "https://example.com/js",
      targets: [{ os: "linux", arch: "amd64", distros: [] }],
      stacks: [],
      modules: [{ ...info(JS), homepage: "https://example.com/js" }, info(NODE), info(YARN)],
      detectionOrder: [
        {
          group: [
            {
              id: JS.id,
              version: JS.version,
              optional: false,
              order: [
                {
                  group: [
                    { id: NODE.id, version: NODE.version, optional: false },
                    { id: YARN.id, version: YARN.version, optional: true },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it("refuses a builder, and says which command reads it", async () => {
    const r = await cnbp(["buildpack", "inspect", BUILDER]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: [
        `error: ${BUILDER}: not a buildpackage: the image has no io.buildpacks.buildpackage.metadata label`,
        `  hint: it is a builder: run \`cnbp builder inspect ${BUILDER}\``,
      ].join("\n"),
    });
  });

  it("refuses a buildpackage whose layers label lacks its entrypoint", async () => {
    const name = repo("bad-package");
    const bad = await buildpackageImage({
      "io.buildpacks.buildpackage.metadata": JSON.stringify({ id: "example/js", version: "9.9.9" }),
    });
    await registry.save(bad, [name]);
    const r = await cnbp(["buildpack", "inspect", name]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${name}: label io.buildpacks.buildpack.layers has no example/js@9.9.9, the entrypoint that io.buildpacks.buildpackage.metadata names`,
    });
  });

  it("says when a .cnb file is missing or is not an OCI layout archive", async () => {
    const missing = join(dir, "files", "nope.cnb");
    expect(await cnbp(["buildpack", "inspect", missing])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${missing}: no such file`,
    });
    const layerFile = join(dir, "layer-0.tgz"); // a module layer the fixtures wrote
    expect(await cnbp(["buildpack", "inspect", layerFile])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${layerFile}: is gzip-compressed; an oci-archive is an uncompressed tar\n  hint: decompress it first (e.g. gunzip)`,
    });
  });
});

describe("inspect of an image index", () => {
  const BUILDER_INDEX = repo("builder-index");
  const PACKAGE_INDEX = repo("js-package-index");
  let indexLayout: string;
  const amd64 = { os: "linux", arch: "amd64", distros: [{ name: "debian", version: "12" }] };
  const arm64 = {
    os: "linux",
    arch: "arm64",
    variant: "v8",
    distros: [{ name: "ubuntu", version: "24.04" }],
  };

  /** The image for arm64/v8, with the distro labels of another base. */
  const onArm = <T extends { config: ImageConfig }>(image: T): T => ({
    ...image,
    config: {
      ...image.config,
      architecture: "arm64",
      variant: "v8",
      config: {
        ...image.config.config,
        Labels: {
          ...image.config.config?.Labels,
          "io.buildpacks.base.distro.name": "ubuntu",
          "io.buildpacks.base.distro.version": "24.04",
        },
      },
    },
  });

  beforeAll(async () => {
    const client = new RegistryClient();
    const builder = await builderImage();
    await saveImageIndex([builder, onArm(builder)], { kind: "registry", name: BUILDER_INDEX }, client);
    indexLayout = join(dir, "index-layout");
    await saveImageIndex(
      [builder, onArm(builder)],
      { kind: "layout", dir: indexLayout, name: "example.com/builder:multi" },
      client,
    );
    const pkg = await buildpackageImage();
    await saveImageIndex([pkg, onArm(pkg)], { kind: "registry", name: PACKAGE_INDEX }, client);
  });

  /** The section listing the targets: the widest row's width plus a gap before the marker. */
  const indexSection = (shown: 0 | 1, amd64Row = "linux/amd64 (debian 12)") => {
    const rows = [amd64Row, "linux/arm64/v8 (ubuntu 24.04)"];
    return ["Image Index:", ...rows.map((r, i) => (i === shown ? `  ${r.padEnd(33)}(shown)` : `  ${r}`)), ""];
  };

  it("lists every builder's target and shows the host's (linux/amd64) by default", async () => {
    const r = await cnbp(["builder", "inspect", BUILDER_INDEX]);
    const [first, blank, ...rest] = builderView(BUILDER_INDEX).trimEnd().split("\n");
    expect(r).toEqual({
      exitCode: 0,
      stdout: [first, blank, ...indexSection(0), ...rest].join("\n"),
      stderr: "",
    });
  });

  it("shows the builder --platform names, from a registry and from an OCI layout, as text and JSON", async () => {
    const name = `oci:${indexLayout}`;
    const text = await cnbp(["builder", "inspect", name, "--platform", "linux/arm64/v8"]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      [
        "Image Index:",
        "  linux/amd64 (debian 12)",
        `  ${"linux/arm64/v8 (ubuntu 24.04)".padEnd(33)}(shown)`,
      ].join("\n"),
    );
    expect(text.stdout).toContain("Target:\n  linux/arm64/v8 (ubuntu 24.04)\n");

    // a variant is only compared when one is asked for
    const json = await cnbp(["builder", "inspect", BUILDER_INDEX, "--platform", "linux/arm64", "-o", "json"]);
    expect(json.exitCode, json.stderr).toBe(0);
    const info = JSON.parse(json.stdout);
    expect([info.index, info.target]).toEqual([{ targets: [amd64, arm64], shown: arm64 }, arm64]);
    expect(info.buildpacks.map((b: { id: string }) => b.id)).toEqual(BUILDPACKS.map((b) => b.id));
  });

  it("lists every buildpackage's target, and shows the one --platform names", async () => {
    const r = await cnbp(["buildpack", "inspect", PACKAGE_INDEX, "--platform", "linux/arm64"]);
    const [first, blank, ...rest] = packageView(PACKAGE_INDEX).split("\n");
    expect(r).toEqual({
      exitCode: 0,
      // the buildpackage's amd64 image has no distro labels
      stdout: [first, blank, ...indexSection(1, "linux/amd64"), ...rest].join("\n"),
      stderr: "",
    });
    const json = await cnbp(["buildpack", "inspect", PACKAGE_INDEX, "-o", "json"]);
    const plain = { os: "linux", arch: "amd64", distros: [] };
    expect(JSON.parse(json.stdout).index).toEqual({ targets: [plain, arm64], shown: plain });
  });

  it("refuses a --platform the image has no image for, naming the flag and the targets there are", async () => {
    expect(await cnbp(["builder", "inspect", BUILDER_INDEX, "--platform", "linux/s390x"])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: --platform linux/s390x: ${BUILDER_INDEX} has no image for linux/s390x; it has linux/amd64, linux/arm64/v8: give one of these`,
    });
    // a single image has one target
    expect(await cnbp(["buildpack", "inspect", packageFile, "--platform", "linux/arm64"])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: --platform linux/arm64: ${packageFile} has no image for linux/arm64; it has linux/amd64: give one of these`,
    });
    const usage = await cnbp(["builder", "inspect", BUILDER_INDEX, "--platform", "arm64"]);
    expect([usage.exitCode, usage.stderr]).toEqual([
      2,
      'error: --platform "arm64" must be os/arch or os/arch/variant, e.g. linux/arm64',
    ]);
  });
});

describe("inspect from a registry that demands a login", () => {
  let auth: AuthRegistry;
  let name: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    auth = await startAuthRegistry("cnbp", `pw-${RUN_ID}`);
    const config = join(dir, "docker-config");
    await mkdir(config);
    const login = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
    await writeFile(join(config, "config.json"), JSON.stringify({ auths: { [auth.host]: { auth: login } } }));
    env = { DOCKER_CONFIG: config };
    name = `${auth.host}/cnbp-test/${RUN_ID}/builder:1`;
    const client = new RegistryClient({ keychain: new DockerKeychain({ env }) });
    await new RegistryImageWriter(client).save(await builderImage(), [name]);
  });
  afterAll(async () => {
    await auth?.stop();
  });

  it("reads the builder with the docker config's credentials, and says when it has none", async () => {
    expect(await cnbp(["builder", "inspect", name], { env })).toEqual({
      exitCode: 0,
      stdout: builderView(name).trimEnd(),
      stderr: "",
    });
    const anonymous = await cnbp(["builder", "inspect", name], { env: { DOCKER_CONFIG: join(dir, "none") } });
    expect(anonymous).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${name}: registry ${auth.host} requires authentication to pull; log in with "docker login ${auth.host}" or set CNB_REGISTRY_AUTH`,
    });
  });
});
