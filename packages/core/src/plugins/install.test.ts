// Runs the real npm against local directories and tarballs (no registry: the e2e tests start one).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { DriverDiscovery } from "./discovery.js";
import { PluginInstaller } from "./install.js";
import { driverPackageJson, minimalDriverSource, writePackage } from "./test-support/packages.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-install-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

// no retries, so an unreachable registry fails at once
const env = () => ({ ...process.env, CNBP_DATA_DIR: join(root, "data"), npm_config_fetch_retries: "0" });
const installer = (opts: { builtin?: string[]; npm?: string } = {}) =>
  new PluginInstaller({
    env: env(),
    home: join(root, "home"),
    cwd: root,
    builtinPackageDirs: opts.builtin ?? [],
    ...(opts.npm ? { npm: opts.npm } : {}),
  });
const pluginDir = () => join(root, "data", "plugins");

const driverPackage = (name: string, driver: string, version = "1.0.0") =>
  writePackage(join(root, "src", name), {
    "package.json": driverPackageJson(
      name,
      [{ name: driver, kinds: ["runtime"], module: "./index.js" }],
      version,
    ),
    "index.js": minimalDriverSource(driver),
  });

const rejection = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CnbpError)) throw new Error(`expected a CnbpError, got ${String(err)}`);
  return { code: err.code, message: err.message, hints: err.hints };
};

/** Every file under `dir` with its content (symlinks by target), to compare a folder before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile()) out[relative(dir, path)] = await readFile(path, "utf8");
  }
  return out;
}

const userDrivers = async (builtin: string[] = []) =>
  (await new DriverDiscovery(builtin, env(), join(root, "home")).discover()).drivers.map((d) => [
    d.name,
    d.package,
    d.version,
    d.source,
    d.status,
  ]);

describe("PluginInstaller.install", () => {
  it("installs a directory as a copy into a new plugin folder, with its own package.json", async () => {
    const src = await driverPackage("cnbp-driver-mini", "mini");
    const installed = await installer().install("./src/cnbp-driver-mini");
    const dir = join(pluginDir(), "node_modules", "cnbp-driver-mini");
    expect(installed).toEqual({
      package: "cnbp-driver-mini",
      version: "1.0.0",
      drivers: ["mini"],
      resolved: `file:${relative(pluginDir(), src)}`,
      dir,
    });
    expect((await lstat(dir)).isDirectory()).toBe(true);
    expect(JSON.parse(await readFile(join(pluginDir(), "package.json"), "utf8"))).toEqual({
      name: "cnbp-plugins",
      private: true,
      description: "Driver packages installed with `cnbp driver install`; change them with cnbp, not npm",
      dependencies: { "cnbp-driver-mini": `file:${relative(pluginDir(), src)}` },
    });
    expect(await userDrivers()).toEqual([["mini", "cnbp-driver-mini", "1.0.0", "user", "ok"]]);
    expect(await readdir(join(root, "data"))).toEqual(["plugins"]);
  });

  it("installs a tarball and reports its sha512 integrity; a second package joins the first", async () => {
    await installer().install(await driverPackage("cnbp-driver-mini", "mini"));
    const src = await driverPackage("cnbp-driver-other", "other", "2.1.0");
    execFileSync("npm", ["pack", "--silent", "--pack-destination", root, src], { stdio: "ignore" });
    const tgz = join(root, "cnbp-driver-other-2.1.0.tgz");
    const integrity = `sha512-${createHash("sha512")
      .update(await readFile(tgz))
      .digest("base64")}`;
    expect(await installer().install(tgz)).toEqual({
      package: "cnbp-driver-other",
      version: "2.1.0",
      drivers: ["other"],
      resolved: `file:${relative(pluginDir(), tgz)}`,
      integrity,
      dir: join(pluginDir(), "node_modules", "cnbp-driver-other"),
    });
    expect(await userDrivers()).toEqual([
      ["mini", "cnbp-driver-mini", "1.0.0", "user", "ok"],
      ["other", "cnbp-driver-other", "2.1.0", "user", "ok"],
    ]);
  });

  it("refuses a package whose manifest is invalid, missing or takes a built-in name, leaving the folder as it was", async () => {
    await installer().install(await driverPackage("cnbp-driver-mini", "mini"));
    const before = await snapshot(pluginDir());
    const bad = await writePackage(join(root, "src", "bad"), {
      "package.json": driverPackageJson("cnbp-driver-bad", [
        { name: "bad", kinds: ["runtime", "push"], module: "./index.js" },
      ]),
      "index.js": minimalDriverSource("bad"),
    });
    const plain = await writePackage(join(root, "src", "plain"), {
      "package.json": { name: "left-pad", version: "1.3.0" },
    });
    const builtin = await writePackage(join(root, "builtin", "driver-podman"), {
      "package.json": driverPackageJson("@cnbp/driver-podman", [
        { name: "podman", kinds: ["runtime"], module: "./index.js" },
      ]),
      "index.js": minimalDriverSource("podman"),
    });
    const impostor = await driverPackage("cnbp-driver-podman2", "podman");
    const hints = [
      `nothing was installed: ${pluginDir()} is as it was`,
      "a driver package declares its drivers in the `cnbp` field of its package.json",
    ];
    expect(await rejection(installer().install(bad))).toEqual({
      code: "CNBP_PLUGIN_INVALID",
      message:
        'cannot install cnbp-driver-bad@1.0.0: invalid manifest: cnbp.drivers[0].kinds[1] "push" must be one of "runtime", "build"',
      hints,
    });
    expect((await rejection(installer().install(plain))).message).toBe(
      "cannot install left-pad@1.3.0: invalid manifest: cnbp is required",
    );
    expect((await rejection(installer({ builtin: [builtin] }).install(impostor))).message).toBe(
      'cannot install cnbp-driver-podman2@1.0.0: duplicate name: @cnbp/driver-podman (builtin) already provides driver "podman"',
    );
    expect(await snapshot(pluginDir())).toEqual(before);
    expect(await readdir(join(root, "data"))).toEqual(["plugins"]);
  });

  it("says what is wrong with the spec or npm", async () => {
    expect(await rejection(installer().install(" "))).toEqual({
      code: "CNBP_USAGE",
      message: "cnbp driver install needs a package: an npm package name, a directory or a .tgz file",
      hints: [],
    });
    expect((await rejection(installer().install("./nowhere.tgz"))).message).toBe(
      "./nowhere.tgz: no such file or directory",
    );
    expect(await rejection(installer({ npm: "cnbp-no-such-npm" }).install("cnbp-driver-x"))).toEqual({
      code: "CNBP_NPM_NOT_FOUND",
      message: 'cannot run "cnbp-no-such-npm": it is not on PATH',
      hints: ["cnbp installs driver packages with npm: install Node.js with npm, or put npm on PATH"],
    });
    // port 9 (discard) has nothing listening on loopback
    expect(
      await rejection(installer().install("cnbp-driver-x", { registry: "http://127.0.0.1:9/" })),
    ).toEqual({
      code: "CNBP_NETWORK",
      message: "cannot reach the npm registry at http://127.0.0.1:9/ (ECONNREFUSED)",
      hints: ["check the network and the registry URL (--registry, or npm's own `registry` setting)"],
    });
    expect(await readdir(join(root, "data"))).toEqual([]);
  });
});

describe("PluginInstaller.remove", () => {
  it("removes a package by a driver's name or by its name, and refuses built-in and unknown names", async () => {
    const builtin = await writePackage(join(root, "builtin", "driver-podman"), {
      "package.json": driverPackageJson("@cnbp/driver-podman", [
        { name: "podman", kinds: ["runtime"], module: "./index.js" },
      ]),
      "index.js": minimalDriverSource("podman"),
    });
    const withBuiltin = installer({ builtin: [builtin] });
    await withBuiltin.install(await driverPackage("cnbp-driver-mini", "mini"));
    await withBuiltin.install(await driverPackage("cnbp-driver-other", "other", "2.0.0"));
    expect(await withBuiltin.remove("mini")).toEqual({
      package: "cnbp-driver-mini",
      version: "1.0.0",
      drivers: ["mini"],
      dir: join(pluginDir(), "node_modules", "cnbp-driver-mini"),
    });
    expect((await withBuiltin.remove("cnbp-driver-other")).drivers).toEqual(["other"]);
    expect(await userDrivers([builtin])).toEqual([
      ["podman", "@cnbp/driver-podman", "1.0.0", "builtin", "ok"],
    ]);
    expect(await rejection(withBuiltin.remove("podman"))).toEqual({
      code: "CNBP_DRIVER_BUILTIN",
      message: "driver podman is built into cnbp (package @cnbp/driver-podman) and cannot be removed",
      hints: ["only drivers installed with `cnbp driver install` can be removed"],
    });
    expect(await rejection(withBuiltin.remove("mini"))).toEqual({
      code: "CNBP_DRIVER_NOT_FOUND",
      message: `no driver or driver package named "mini" is installed in ${pluginDir()}`,
      hints: ["no driver package is installed"],
    });
  });
});
