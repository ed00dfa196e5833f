// `cnbp driver install` and `cnbp driver remove` with a real npm registry (verdaccio on loopback) and the
// sample third-party driver of test/fixtures, which then passes the runtime contract as cnbp loads it.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DriverDiscovery, findDriver, loadDriver, type RuntimeDriver } from "@cnbp/core";
import { runtimeDriverContract } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { cnbp, type NpmRegistry, npmPack, REGISTRY, REPO_ROOT, startNpmRegistry } from "#test-utils";

const SAMPLE = fileURLToPath(new URL("./fixtures/third-party-driver", import.meta.url));
const BROKEN = fileURLToPath(new URL("./fixtures/broken-driver", import.meta.url));

// while the file is collected: the contract kit makes the podcli driver (installed from this registry) then
const tmp = await mkdtemp(join(tmpdir(), "cnbp-driver-install-"));
const registry: NpmRegistry = await startNpmRegistry();
const tarball = await npmPack(SAMPLE, tmp);
const integrity = `sha512-${createHash("sha512")
  .update(await readFile(tarball))
  .digest("base64")}`;
await registry.publish(tarball);
await registry.publish(await npmPack(BROKEN, tmp));

afterAll(async () => {
  await registry?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

let dataDirs = 0;
/** A fresh CNBP_DATA_DIR, and cnbp run with it (npm does not retry, so failures are quick). */
function user() {
  const data = join(tmp, `data-${++dataDirs}`);
  const run = (...args: string[]) =>
    cnbp(args, { env: { CNBP_DATA_DIR: data, npm_config_fetch_retries: "0" } });
  return { plugins: join(data, "plugins"), run };
}

const listed = async (u: ReturnType<typeof user>) => {
  const r = await u.run("driver", "list", "--json");
  const { drivers } = JSON.parse(r.stdout) as { drivers: { name: string; source: string; status: string }[] };
  return drivers.filter((d) => d.source !== "builtin");
};

/** Every file of the plugin folder with its content, to show that a refused install changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[relative(dir, path)] = await readFile(path, "utf8");
    }
  return out;
}

describe("cnbp driver install", () => {
  it("installs a package from the registry and shows its integrity; list shows it from the user's folder", async () => {
    const u = user();
    expect(await u.run("driver", "install", "--registry", registry.url, "cnbp-driver-podcli")).toEqual({
      exitCode: 0,
      stdout:
        `installed cnbp-driver-podcli@1.0.0 (${integrity}) providing driver(s): podcli\n` +
        `  from ${registry.url}cnbp-driver-podcli/-/cnbp-driver-podcli-1.0.0.tgz`,
      stderr: "",
    });
    expect(await listed(u)).toEqual([
      {
        name: "podcli",
        kinds: ["runtime"],
        package: "cnbp-driver-podcli",
        version: "1.0.0",
        dir: join(u.plugins, "node_modules", "cnbp-driver-podcli"),
        source: "user",
        module: join(u.plugins, "node_modules", "cnbp-driver-podcli", "index.js"),
        status: "ok",
      },
    ]);
    const lock = JSON.parse(await readFile(join(u.plugins, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/cnbp-driver-podcli"].integrity).toBe(integrity);
  });

  it("refuses a package whose manifest is invalid, leaving the plugin folder as it was", async () => {
    const u = user();
    expect((await u.run("driver", "install", tarball)).exitCode).toBe(0);
    const before = await snapshot(u.plugins);
    expect(await u.run("driver", "install", "--registry", registry.url, "cnbp-driver-broken")).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        'error: cannot install cnbp-driver-broken@1.0.0: invalid manifest: cnbp.drivers[0].kinds[1] "push" must be one of "runtime", "build"\n' +
        `  hint: nothing was installed: ${u.plugins} is as it was\n` +
        "  hint: a driver package declares its drivers in the `cnbp` field of its package.json",
    });
    expect(await snapshot(u.plugins)).toEqual(before);
    expect(await readdir(join(u.plugins, ".."))).toEqual(["plugins"]);
  });

  it("installs from a directory and from a .tgz made by npm pack", async () => {
    const fromDir = user();
    // as a user types it, relative to the working directory (cnbp() runs in REPO_ROOT)
    expect(await fromDir.run("driver", "install", `./${relative(REPO_ROOT, SAMPLE)}`)).toEqual({
      exitCode: 0,
      stdout:
        "installed cnbp-driver-podcli@1.0.0 (no integrity hash: installed from a directory) providing driver(s): podcli\n" +
        `  from file:${relative(fromDir.plugins, SAMPLE)}`,
      stderr: "",
    });
    const fromTgz = user();
    expect(await fromTgz.run("driver", "install", "--json", tarball)).toEqual({
      exitCode: 0,
      stdout: `${JSON.stringify(
        {
          package: "cnbp-driver-podcli",
          version: "1.0.0",
          drivers: ["podcli"],
          resolved: `file:${relative(fromTgz.plugins, tarball)}`,
          integrity,
          dir: join(fromTgz.plugins, "node_modules", "cnbp-driver-podcli"),
        },
        null,
        2,
      )}`,
      stderr: "",
    });
    for (const u of [fromDir, fromTgz])
      expect((await listed(u)).map((d) => [d.name, d.source, d.status])).toEqual([["podcli", "user", "ok"]]);
  });

  it("says which package the registry does not have, and refuses a registry that is not a URL", async () => {
    const u = user();
    expect(await u.run("driver", "install", "--registry", registry.url, "cnbp-driver-nonexistent")).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        `error: no package "cnbp-driver-nonexistent" in the npm registry at ${registry.url}\n` +
        "  hint: check the name, or pass --registry <url> for a package published elsewhere",
    });
    expect(await u.run("driver", "install", "--registry", "127.0.0.1:4873", "cnbp-driver-podcli")).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'error: --registry "127.0.0.1:4873" is not an http or https URL\n' +
        "  hint: for example --registry http://127.0.0.1:4873",
    });
    expect(await readdir(join(u.plugins, ".."))).toEqual([]);
  });
});

describe("cnbp driver remove", () => {
  it("removes an installed driver by its name; refuses a built-in driver and an unknown name", async () => {
    const u = user();
    expect((await u.run("driver", "install", tarball)).exitCode).toBe(0);
    expect(await u.run("driver", "remove", "podcli")).toEqual({
      exitCode: 0,
      stdout: "removed cnbp-driver-podcli@1.0.0 providing driver(s): podcli",
      stderr: "",
    });
    expect(await listed(u)).toEqual([]);
    expect(await u.run("driver", "remove", "podman")).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        "error: driver podman is built into cnbp (package @cnbp/driver-podman) and cannot be removed\n" +
        "  hint: only drivers installed with `cnbp driver install` can be removed",
    });
    expect(await u.run("driver", "remove", "podcli")).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        `error: no driver or driver package named "podcli" is installed in ${u.plugins}\n` +
        "  hint: no driver package is installed",
    });
  });
});

// the driver as cnbp loads it: installed from the registry into a plugin folder, found by discovery, imported
runtimeDriverContract(
  "podcli",
  async () => {
    const u = user();
    const r = await u.run("driver", "install", "--registry", registry.url, "cnbp-driver-podcli");
    if (r.exitCode !== 0) throw new Error(`cnbp driver install failed: ${r.stderr}`);
    const discovery = new DriverDiscovery([], { CNBP_DATA_DIR: join(u.plugins, "..") });
    const found = findDriver(await discovery.discover(), "podcli");
    if (found?.source !== "user")
      throw new Error(`podcli is not in the user's plugin folder: ${JSON.stringify(found)}`);
    return (await loadDriver(found)) as RuntimeDriver;
  },
  // it cannot import OCI layouts: the image store tests get their image from the local registry
  { registry: REGISTRY },
);

describe("a build on the installed third-party driver", () => {
  it("builds and publishes examples/hello, which then runs; without --publish it says the driver has no store", async () => {
    const u = user();
    const installed = await u.run("driver", "install", "--registry", registry.url, "cnbp-driver-podcli");
    expect(installed.exitCode, installed.stderr).toBe(0);
    const id = relative(tmpdir(), tmp)
      .replace(/[^a-z0-9]/gi, "")
      .toLowerCase();
    const builder = `${REGISTRY}/cnbp-test/${id}/podcli-builder:1`;
    const image = `${REGISTRY}/cnbp-test/${id}/podcli-app:1`;
    const made = await u.run(
      "builder",
      "create",
      builder,
      "--config",
      join(REPO_ROOT, "examples/hello/builder.toml"),
      "--publish",
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const app = join(REPO_ROOT, "examples/hello/app");
    const args = [
      "build",
      image,
      "--path",
      app,
      "--builder",
      builder,
      "--driver",
      "podcli",
      "--network",
      "host",
    ];
    const built = await u.run(...args, "--publish", "--trust-builder");
    expect(built.exitCode, built.stderr).toBe(0);
    expect(built.stdout.trim().split("\n").at(-1)).toMatch(/^Built \S+, pushed to its registry, in [\d.]+ s/);
    const ran = await execa("podman", ["run", "--rm", "--pull", "always", "--tls-verify=false", image], {
      reject: false,
    });
    expect(ran).toMatchObject({
      exitCode: 0,
      stdout: "Hello from a Cloud Native Buildpacks app built by cnbp!",
    });
    await execa("podman", ["rmi", "-f", image, builder], { reject: false });
    const caches = await execa("podman", ["volume", "ls", "-q", "--filter", `label=io.cnbp.image=${image}`]);
    for (const v of caches.stdout.split("\n").filter(Boolean))
      await execa("podman", ["volume", "rm", "-f", v]);

    const local = await u.run(...args);
    expect(local).toMatchObject({
      exitCode: 1,
      stderr:
        "error: driver podcli cannot put images into an image store of its own (it cannot import OCI layouts)\n  hint: build with --publish to push the image to a registry",
    });
  });
});
