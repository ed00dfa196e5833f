/** `cnbp driver list` and `cnbp driver info` as a user runs them, on driver packages the test writes. */
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, REPO_ROOT } from "#test-utils";

let root: string;
let env: Record<string, string>;

/** The built-in drivers every listing starts with. */
const builtin = (name: string, kinds = ["runtime", "build"]) => ({
  name,
  kinds,
  package: `@cnbp/driver-${name}`,
  version: "0.1.0",
  dir: join(REPO_ROOT, `packages/driver-${name}`),
  source: "builtin",
  module: join(REPO_ROOT, `packages/driver-${name}/dist/index.js`),
  status: "ok",
});
const DOCKER = builtin("docker");
const PODMAN = builtin("podman");
const BUILDAH = builtin("buildah", ["build"]);
const K8S = builtin("k8s", ["runtime"]);

const write = async (path: string, content: unknown) => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
};

const pkg = (name: string, version: string, drivers: unknown, apiVersion = 1) => ({
  name,
  version,
  type: "module",
  keywords: ["cnbp-driver"],
  cnbp: { apiVersion, drivers },
});

/** A minimal driver object for both contracts; `extra` is appended to the module. */
const driverModule = (name: string, extra = "") => `const noop = async () => {};
export default {
  apiVersion: 1,
  name: ${JSON.stringify(name)},
  capabilities: { rootless: true, sharesImageStoreWith: [], ociLayoutImport: true, ociLayoutExport: true,
    bindMounts: true, networks: ["default", "none"], registryOnly: false },
  info: noop,
  images: { inspect: noop, pull: noop, importOciLayout: noop, exportOciLayout: noop, tag: noop, remove: noop },
  volumes: { list: noop, remove: noop },
  workspace: noop,
  build: noop,
  [Symbol.asyncDispose]: noop,
};
${extra}`;

// where each fixture package lives (filled in beforeAll)
const dirs = { nerdctl: "", tree: "", bad: "", fork: "", hollow: "" };

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), "cnbp-driver-cli-")));
  dirs.nerdctl = join(root, "nerdctl");
  await write(
    join(dirs.nerdctl, "package.json"),
    pkg("cnbp-driver-nerdctl", "1.2.3", [
      { name: "nerdctl", kinds: ["runtime", "build"], module: "./dist/index.js" },
    ]),
  );
  await write(
    join(dirs.nerdctl, "dist/index.js"),
    driverModule(
      "nerdctl",
      `import { z } from "zod";
export const optionsSchema = z.strictObject({
  namespace: z.string().default("default").describe("containerd namespace"),
  address: z.string().optional(),
});
export const createDriver = async () => (await import("./index.js")).default;
`,
    ),
  );
  // the fixture's module imports zod, as a real driver package would from its own node_modules
  await mkdir(join(dirs.nerdctl, "node_modules"), { recursive: true });
  await symlink(
    await realpath(join(REPO_ROOT, "packages/core/node_modules/zod")),
    join(dirs.nerdctl, "node_modules/zod"),
  );

  dirs.tree = join(root, "tree", "node_modules");
  await write(
    join(dirs.tree, "cnbp-driver-future/package.json"),
    pkg("cnbp-driver-future", "3.0.0", [{ name: "future", kinds: ["runtime"], module: "./index.js" }], 2),
  );
  await write(
    join(dirs.tree, "@acme/cnbp-driver-kata/package.json"),
    pkg("@acme/cnbp-driver-kata", "0.1.0", [{ name: "kata", kinds: ["runtime"], module: "./dist/index.js" }]),
  );
  await write(join(dirs.tree, "is-odd/package.json"), { name: "is-odd", version: "3.0.1" });

  dirs.bad = join(root, "bad");
  await write(
    join(dirs.bad, "package.json"),
    pkg("cnbp-driver-bad", "0.0.1", [{ name: "bad", kinds: ["runtime", "push"], module: "./index.js" }]),
  );

  dirs.fork = join(root, "fork");
  await write(
    join(dirs.fork, "package.json"),
    pkg("nerdctl-fork", "9.9.9", [{ name: "nerdctl", kinds: ["runtime"], module: "./index.js" }]),
  );
  await write(join(dirs.fork, "index.js"), driverModule("nerdctl"));

  dirs.hollow = join(root, "hollow");
  await write(
    join(dirs.hollow, "package.json"),
    pkg("cnbp-driver-hollow", "1.0.0", [{ name: "hollow", kinds: ["build"], module: "./index.js" }]),
  );
  await write(join(dirs.hollow, "index.js"), `export default { apiVersion: 1, name: "hollow" };\n`);

  const data = join(root, "data");
  env = {
    HOME: join(root, "home"),
    XDG_DATA_HOME: data,
    CNBP_DATA_DIR: join(data, "cnbp"),
    CNBP_PLUGIN_PATH: [dirs.nerdctl, dirs.tree, dirs.bad, dirs.fork, dirs.hollow].join(delimiter),
  };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("cnbp driver list", () => {
  it("prints every driver found, working or broken, as a table", async () => {
    const r = await cnbp(["driver", "list"], { env });
    expect(r).toEqual({
      exitCode: 0,
      stdout: [
        "NAME     KINDS          PACKAGE                 VERSION  SOURCE            STATUS",
        "docker   runtime,build  @cnbp/driver-docker     0.1.0    builtin           ok",
        "podman   runtime,build  @cnbp/driver-podman     0.1.0    builtin           ok",
        "buildah  build          @cnbp/driver-buildah    0.1.0    builtin           ok",
        "k8s      runtime        @cnbp/driver-k8s        0.1.0    builtin           ok",
        "nerdctl  runtime,build  cnbp-driver-nerdctl     1.2.3    CNBP_PLUGIN_PATH  ok",
        "kata     runtime        @acme/cnbp-driver-kata  0.1.0    CNBP_PLUGIN_PATH  broken: module file ./dist/index.js is missing (is the package built?)",
        "future   -              cnbp-driver-future      3.0.0    CNBP_PLUGIN_PATH  broken: unsupported apiVersion 2 (this cnbp supports 1)",
        'bad      -              cnbp-driver-bad         0.0.1    CNBP_PLUGIN_PATH  broken: invalid manifest: cnbp.drivers[0].kinds[1] "push" must be one of "runtime", "build"',
        'nerdctl  runtime        nerdctl-fork            9.9.9    CNBP_PLUGIN_PATH  broken: duplicate name: cnbp-driver-nerdctl (CNBP_PLUGIN_PATH) already provides driver "nerdctl"',
        "hollow   build          cnbp-driver-hollow      1.0.0    CNBP_PLUGIN_PATH  ok",
      ].join("\n"),
      stderr: "",
    });
  });

  it("prints the same as JSON, and warns about a path that does not exist", async () => {
    const missing = join(root, "nowhere");
    const r = await cnbp(["driver", "list", "--json"], {
      env: { ...env, CNBP_PLUGIN_PATH: [dirs.nerdctl, missing].join(delimiter) },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      drivers: [
        DOCKER,
        PODMAN,
        BUILDAH,
        K8S,
        {
          name: "nerdctl",
          kinds: ["runtime", "build"],
          package: "cnbp-driver-nerdctl",
          version: "1.2.3",
          dir: dirs.nerdctl,
          source: "CNBP_PLUGIN_PATH",
          module: join(dirs.nerdctl, "dist/index.js"),
          status: "ok",
        },
      ],
      problems: [{ source: "CNBP_PLUGIN_PATH", path: missing, reason: "no such directory" }],
    });
    const text = await cnbp(["driver", "list"], { env: { ...env, CNBP_PLUGIN_PATH: missing } });
    expect(text).toEqual({
      exitCode: 0,
      stdout: [
        "NAME     KINDS          PACKAGE               VERSION  SOURCE   STATUS",
        "docker   runtime,build  @cnbp/driver-docker   0.1.0    builtin  ok",
        "podman   runtime,build  @cnbp/driver-podman   0.1.0    builtin  ok",
        "buildah  build          @cnbp/driver-buildah  0.1.0    builtin  ok",
        "k8s      runtime        @cnbp/driver-k8s      0.1.0    builtin  ok",
      ].join("\n"),
      stderr: `warning: CNBP_PLUGIN_PATH: ${missing}: no such directory`,
    });
  });

  it("finds drivers installed in the user's plugin folder", async () => {
    const modules = join(env.XDG_DATA_HOME as string, "cnbp", "plugins", "node_modules");
    await write(
      join(modules, "cnbp-driver-user/package.json"),
      pkg("cnbp-driver-user", "2.0.0", [{ name: "user", kinds: ["build"], module: "./index.js" }]),
    );
    await write(join(modules, "cnbp-driver-user/index.js"), driverModule("user"));
    try {
      const r = await cnbp(["driver", "list"], {
        env: { HOME: env.HOME as string, XDG_DATA_HOME: env.XDG_DATA_HOME as string, CNBP_PLUGIN_PATH: "" },
      });
      expect(r).toEqual({
        exitCode: 0,
        stdout: [
          "NAME     KINDS          PACKAGE               VERSION  SOURCE   STATUS",
          "docker   runtime,build  @cnbp/driver-docker   0.1.0    builtin  ok",
          "podman   runtime,build  @cnbp/driver-podman   0.1.0    builtin  ok",
          "buildah  build          @cnbp/driver-buildah  0.1.0    builtin  ok",
          "k8s      runtime        @cnbp/driver-k8s      0.1.0    builtin  ok",
          "user     build          cnbp-driver-user      2.0.0    user     ok",
        ].join("\n"),
        stderr: "",
      });
    } finally {
      await rm(join(env.XDG_DATA_HOME as string, "cnbp"), { recursive: true, force: true });
    }
  });
});

describe("cnbp driver info", () => {
  it("shows a driver and its options as JSON Schema", async () => {
    const r = await cnbp(["driver", "info", "nerdctl"], { env });
    expect(r).toEqual({
      exitCode: 0,
      stdout: [
        "name:      nerdctl",
        "kinds:     runtime,build",
        "package:   cnbp-driver-nerdctl",
        "version:   1.2.3",
        "source:    CNBP_PLUGIN_PATH",
        `directory: ${dirs.nerdctl}`,
        `module:    ${join(dirs.nerdctl, "dist/index.js")}`,
        "status:    ok",
        `options:   ${JSON.stringify(
          {
            $schema: "https://json-schema.org/draft/2020-12/schema",
            type: "object",
            properties: {
              namespace: { default: "default", description: "containerd namespace", type: "string" },
              address: { type: "string" },
            },
            additionalProperties: false,
          },
          null,
          2,
        )}`,
      ].join("\n"),
      stderr: "",
    });
  });

  it("shows the built-in k8s driver and the options a user sets to reach the cluster", async () => {
    const r = await cnbp(["driver", "info", "k8s"], { env });
    const text = (description: string) => ({ description, type: "string", minLength: 1 });
    const seconds = (description: string) => ({
      description,
      type: "integer",
      exclusiveMinimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    expect(r).toEqual({
      exitCode: 0,
      stdout: [
        "name:      k8s",
        "kinds:     runtime",
        "package:   @cnbp/driver-k8s",
        "version:   0.1.0",
        "source:    builtin",
        `directory: ${K8S.dir}`,
        `module:    ${K8S.module}`,
        "status:    ok",
        `options:   ${JSON.stringify(
          {
            $schema: "https://json-schema.org/draft/2020-12/schema",
            type: "object",
            properties: {
              kubeconfig: text("the kubeconfig file (default $KUBECONFIG, else ~/.kube/config)"),
              context: text("the kubeconfig context (default its current context)"),
              namespace: text(
                "the namespace of the build's Pods, PVCs and Secrets (default the context's, else \"default\")",
              ),
              storageClass: text("the storage class of the workspace's PVCs (default the cluster's default)"),
              serviceAccount: text("the service account the build's Pods run as"),
              helperImage: text(
                "an image with sh and tar for moving files in and out of volumes (default docker.io/library/busybox:1.36)",
              ),
              volumeSize: {
                description: 'the size each PVC requests, e.g. "2Gi" (default "1Gi")',
                type: "string",
                pattern: "^\\d+(Ki|Mi|Gi|Ti)?$",
              },
              startTimeout: seconds(
                "seconds a Pod may take to be scheduled and pull its image (default 300)",
              ),
              stepTimeout: seconds(
                "seconds a step may run before Kubernetes stops it (the Pod's activeDeadlineSeconds; default none)",
              ),
              memoryLimit: {
                description:
                  "the memory each step's container may use, e.g. \"2Gi\" (its resources.limits.memory; default none, or the namespace's LimitRange)",
                type: "string",
                pattern: "^\\d+(Ki|Mi|Gi|Ti)?$",
              },
              splitLogs: {
                description:
                  "the cluster gives a step's stdout and stderr apart (Kubernetes 1.32+ with the PodLogsQuerySplitStreams feature gate); otherwise stderr is interleaved into stdout (default false)",
                type: ["boolean", "string"],
              },
            },
            additionalProperties: false,
          },
          null,
          2,
        )}`,
      ].join("\n"),
      stderr: "",
    });
  });

  it("says why a module whose default export is not a driver cannot be used, and exits 1", async () => {
    const r = await cnbp(["driver", "info", "hollow", "--json"], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      name: "hollow",
      kinds: ["build"],
      package: "cnbp-driver-hollow",
      version: "1.0.0",
      dir: dirs.hollow,
      source: "CNBP_PLUGIN_PATH",
      module: join(dirs.hollow, "index.js"),
      status: "broken",
      reason:
        `driver hollow (package cnbp-driver-hollow): ${join(dirs.hollow, "index.js")}: the default export is not a cnbp driver: ` +
        "capabilities is missing; [Symbol.asyncDispose] is not a function; images is missing; build is not a function",
      options: null,
    });
  });

  it("shows a broken manifest's reason and exits 1", async () => {
    const r = await cnbp(["driver", "info", "future"], { env });
    expect(r).toEqual({
      exitCode: 1,
      stdout: [
        "name:      future",
        "kinds:     -",
        "package:   cnbp-driver-future",
        "version:   3.0.0",
        "source:    CNBP_PLUGIN_PATH",
        `directory: ${join(dirs.tree, "cnbp-driver-future")}`,
        "module:    -",
        "status:    broken: unsupported apiVersion 2 (this cnbp supports 1)",
        "options:   none",
      ].join("\n"),
      stderr: "",
    });
  });

  it("names the drivers it found when asked for an unknown one", async () => {
    const r = await cnbp(["driver", "info", "containerd"], { env });
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: [
        'error: no driver named "containerd"',
        "  hint: drivers found: docker, podman, buildah, k8s, nerdctl, kata, future, bad, hollow",
        `  hint: drivers are looked for in the built-in packages, ${join(env.CNBP_DATA_DIR as string, "plugins", "node_modules")} and the CNBP_PLUGIN_PATH entries`,
      ].join("\n"),
    });
  });

  it("exits 2 without a name", async () => {
    const r = await cnbp(["driver", "info"], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("error: missing required argument 'name'");
  });
});
