/**
 * `cnbp build --driver k8s` as a user runs it against a cluster: through the tests' stand-in Kubernetes API
 * server (test/k8s-apiserver, Pods run by Podman) with an ordinary kubeconfig, a builder made by
 * `cnbp builder create` on the busybox stack in the local registry. The image is published and runs; a rebuild
 * (`--publish` implied: a cluster has no image store) reuses every layer from the cache's PVC; a failing
 * buildpack, Ctrl-C and what the driver cannot do are clear errors; nothing but the cache's PVC is left in the
 * cluster or in Podman.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  builderConfig,
  CLI,
  cnbp,
  cnbpWorkdir,
  inRegistry,
  listedIn,
  phasesDone,
  publish,
  REGISTRY,
  RUN_ID,
  readRegistryImage,
  removeImages,
  STACKS,
  writeApp,
} from "#test-utils";
import { type ApiServer, startApiServer, writeKubeconfig } from "./k8s-apiserver/index.js";

const BUILDER = `${REGISTRY}/cnbp-test/${RUN_ID}/k8s-builder:1`;
const appImage = (name: string) => `${REGISTRY}/cnbp-test/${RUN_ID}/k8s-${name}:1`;
/** The build's namespace, given as a driver option (the kubeconfig's context names another). */
const NAMESPACE = `e2e-${RUN_ID}`;
/** The persistent volume a build keeps (its cache), by the name cnbp gives it. */
const isCache = (name: string) => name.startsWith("cnbp-cache-");

/** A runtime buildpack (cached build+launch layer) and the app's (launch layer, process, failure, slowness). */
const FILES: Record<string, string> = {
  "bp/runtime/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/runtime"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/runtime/bin/detect": '#!/bin/sh\nprintf "[[provides]]\\nname = \\"runtime\\"\\n" > "$2"\n',
  "bp/runtime/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'rt="$CNB_LAYERS_DIR/rt"',
    'if [ -x "$rt/bin/hello-rt" ]; then echo "runtime: kept from the cache"; else',
    '  echo "runtime: installing"',
    '  mkdir -p "$rt/bin"',
    '  printf \'#!/bin/sh\\necho "runtime says hello $*"\\n\' > "$rt/bin/hello-rt"',
    '  chmod +x "$rt/bin/hello-rt"',
    "fi",
    'printf "[types]\\nlaunch = true\\nbuild = true\\ncache = true\\n" > "$rt.toml"',
    "",
  ].join("\n"),
  "bp/app/buildpack.toml":
    'api = "0.12"\n[buildpack]\nid = "ex/app"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/app/bin/detect":
    '#!/bin/sh\n[ -f app.txt ] || exit 100\nprintf "[[requires]]\\nname = \\"runtime\\"\\n" > "$2"\n',
  "bp/app/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'echo "app: building $(cat app.txt)"',
    '[ ! -f slow.txt ] || { echo "app: sleeping"; sleep 120; }',
    '[ ! -f fail.txt ] || { echo "app: fail.txt says to fail" >&2; exit 7; }',
    'printf \'[[processes]]\\ntype = "web"\\ncommand = ["hello-rt"]\\nargs = ["from", "k8s"]\\ndefault = true\\n\' > "$CNB_LAYERS_DIR/launch.toml"',
    "",
  ].join("\n"),
  "ext/extension.toml":
    'api = "0.10"\n[extension]\nid = "ex/ext"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "ext/bin/detect": "#!/bin/sh\nexit 0\n",
  "builder.toml": builderConfig("busybox", ["bp/runtime", "bp/app"], ["ex/runtime", "ex/app"]),
};

let server: ApiServer;
let dir: string;
let env: Record<string, string>;
let core: CoreV1Api;

const buildArgs = (image: string, app: string, extra: readonly string[]) => [
  ...["build", image, "--path", app, "--builder", BUILDER, "--driver", "k8s"],
  // the registry on the host's loopback is reached from the Pods through the node's network
  ...["--driver-opt", `namespace=${NAMESPACE}`, "--network", "host", ...extra],
];
const build = (image: string, app: string, extra: readonly string[] = ["--publish"]) =>
  cnbp(buildArgs(image, app, extra), { env });

/** What the cluster and the Podman behind it hold for the namespace, but the cache's PVC and its volume. */
async function leftovers() {
  const byName = (items: { metadata?: { name?: string } }[]) =>
    items.map((o) => o.metadata?.name ?? "").filter((n) => !isCache(n));
  // the stand-in names what it makes in Podman `k8s-<namespace>-<name>`
  const named = `k8s-${NAMESPACE}-`;
  const inPodman = (list: readonly string[]) => listedIn("podman", [...list, "--filter", `name=^${named}`]);
  return {
    pods: byName((await core.listNamespacedPod({ namespace: NAMESPACE })).items),
    claims: byName((await core.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE })).items),
    secrets: byName((await core.listNamespacedSecret({ namespace: NAMESPACE })).items),
    podmanPods: await inPodman(["pod", "ps", "-q"]),
    podmanContainers: await inPodman(["ps", "-a", "-q"]),
    podmanVolumes: (await inPodman(["volume", "ls", "-q"])).filter((v) => !isCache(v.slice(named.length))),
  };
}
const NOTHING = {
  pods: [],
  claims: [],
  secrets: [],
  podmanPods: [],
  podmanContainers: [],
  podmanVolumes: [],
};

/** What reading `image` back from the registry fails with when the build published nothing. */
const notInRegistry = (image: string) => ({
  code: "CNBP_REGISTRY_IMAGE_NOT_FOUND",
  message: `${image}: image not found`,
});

beforeAll(async () => {
  server = await startApiServer();
  ({ dir, env } = await cnbpWorkdir("cnbp-build-k8s-", FILES));
  const kubeconfig = join(dir, "kubeconfig");
  await writeKubeconfig(kubeconfig, { server: server.url, namespace: "default" });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  // the cluster's settings where a user keeps them: the config file's [drivers.k8s] (helper: the busybox stack)
  await writeFile(
    join(dir, "config.toml"),
    `[drivers.k8s]\nkubeconfig = "${kubeconfig}"\nhelperImage = "${inRegistry(STACKS.busybox.run)}"\n`,
  );
  await publish("builder create", BUILDER, join(dir, "builder.toml"), env);
});

afterAll(async () => {
  // the caches' PVCs the builds kept, then every Podman object the stand-in made
  for (const c of (await core?.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE }))?.items ?? [])
    await core.deleteNamespacedPersistentVolumeClaim({ name: c.metadata?.name ?? "", namespace: NAMESPACE });
  await server?.close();
  // the images the stand-in's Pods and the test pulled into Podman's store
  await removeImages("podman", [], `cnbp-test/${RUN_ID}`, REGISTRY);
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp build --driver k8s", () => {
  const APP_IMAGE = appImage("app");
  let app: string;
  let firstDigest: string;

  it("builds through Pods and publishes an image that runs", async () => {
    app = await writeApp(dir, "app", { "app.txt": "v1" });
    const r = await build(APP_IMAGE, app);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("runtime: installing");
    expect(lines).toContain("app: building v1");
    expect(phasesDone(r.stdout)).toEqual([
      "[cnbp] analyze done",
      "[cnbp] detect done",
      "[cnbp] restore done",
      "[cnbp] build done",
      "[cnbp] export done",
    ]);
    firstDigest = (await readRegistryImage(APP_IMAGE)).digest;
    expect(firstDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lines.filter(Boolean).at(-1)).toMatch(
      new RegExp(`^Built ${APP_IMAGE.replace(/[.:/]/g, "\\$&")}, pushed to its registry, in [\\d.]+ s`),
    );
    const pullAndRun = ["run", "--rm", "--tls-verify=false", "--pull", "always", APP_IMAGE];
    expect(await execa("podman", pullAndRun, { reject: false })).toMatchObject({
      exitCode: 0,
      stdout: "runtime says hello from k8s",
    });
    expect(await leftovers()).toEqual(NOTHING);
  });

  it("rebuilds from the cache's PVC, reusing every layer, into the same image, published without --publish", async () => {
    const r = await build(APP_IMAGE, app, []);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain(`[cnbp] driver k8s keeps images in registries only: publishing ${APP_IMAGE}`);
    expect(lines).toContain("runtime: kept from the cache");
    expect(lines.filter((l) => l.startsWith("Reusing layer "))).toEqual([
      "Reusing layer 'ex/runtime:rt'",
      "Reusing layer 'buildpacksio/lifecycle:launcher'",
      "Reusing layer 'buildpacksio/lifecycle:config'",
      "Reusing layer 'buildpacksio/lifecycle:process-types'",
    ]);
    expect(lines.filter((l) => l.startsWith("Adding layer "))).toEqual([]);
    expect(lines).toContain("Reusing 1/1 app layer(s)");
    expect((await readRegistryImage(APP_IMAGE)).digest).toBe(firstDigest);
    expect(await leftovers()).toEqual(NOTHING);
  });

  it("stops at a failing buildpack with the phase named, leaving nothing in the cluster", async () => {
    const failing = await writeApp(dir, "failing", { "app.txt": "v1", "fail.txt": "" });
    const image = appImage("failing");
    const r = await build(image, failing);
    // a cluster's log interleaves the container's stderr into stdout
    expect(r.stdout).toContain("app: fail.txt says to fail\n");
    expect(r.stdout).toContain("ERROR: builder: buildpack ex/app@1.0.0: bin/build failed with exit code 7\n");
    expect(r).toMatchObject({
      exitCode: 1,
      stderr:
        "error: build failed in the builder phase: a buildpack's build failed (exit code 51)\n  hint: the buildpack output above says what went wrong",
    });
    await expect(readRegistryImage(image)).rejects.toMatchObject(notInRegistry(image));
    expect(await leftovers()).toEqual(NOTHING);
  });

  it("refuses image extensions before anything runs, with or without --extend-driver", async () => {
    const ext = join(dir, "ext");
    const refused = (how: string) =>
      `error: the build has image extensions (--extension), and driver k8s ${how}: it takes images only from registries\n` +
      "  hint: build with --driver podman or --driver docker, which apply the Dockerfiles themselves";
    expect(await build(appImage("extended"), app, ["--publish", "--extension", ext])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: refused("cannot apply Dockerfiles"),
    });
    const r = await build(appImage("extended"), app, [
      "--publish",
      "--extension",
      ext,
      "--extend-driver",
      "podman",
    ]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: refused("cannot run the images --extend-driver podman makes"),
    });
    expect(await leftovers()).toEqual(NOTHING);
  });

  it("stops on Ctrl-C, deleting the running Pod and the build's PVCs and Secrets", async () => {
    const slow = await writeApp(dir, "slow", { "app.txt": "v1", "slow.txt": "" });
    const image = appImage("slow");
    const child = execa(process.execPath, [CLI, ...buildArgs(image, slow, ["--publish"])], {
      env,
      reject: false,
      // cnbp gets all the time it needs to clean up: no SIGKILL after execa's default 5 s
      forceKillAfterDelay: false,
    });
    // the marker, or the build's end when it fails before it (then the assertions below say why)
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("app: sleeping")) resolve();
      });
      void child.finally(() => resolve());
    });
    // the builder phase's Pod runs in the namespace the driver option named
    const running = (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
    expect(running.map((p) => p.status?.phase)).toEqual(["Running"]);
    const sent = performance.now();
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error: build cancelled in the builder phase");
    expect(performance.now() - sent).toBeLessThan(30_000);
    await expect(readRegistryImage(image)).rejects.toMatchObject(notInRegistry(image));
    expect(await leftovers()).toEqual(NOTHING);
  });
});
