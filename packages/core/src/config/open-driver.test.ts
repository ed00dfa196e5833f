import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { driverPackageJson, minimalDriverSource, writePackage } from "../plugins/test-support/packages.js";
import { writeRealPodmanPackage } from "../plugins/test-support/real-podman.js";
import { openDriver } from "./open-driver.js";

let root: string;
let configPath: string;
let pluginPath: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-open-driver-"));
  configPath = join(root, "config.toml");
  const docker = await writePackage(join(root, "docker"), {
    "package.json": driverPackageJson("fixture-docker", [
      { name: "docker", kinds: ["runtime", "build"], module: "./index.js" },
    ]),
    "index.js": minimalDriverSource("docker"),
  });
  pluginPath = [await writeRealPodmanPackage(root), docker].join(delimiter);
});
beforeEach(async () => {
  await rm(configPath, { force: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const open = (flags: { driver?: string; driverOpts?: string[] }, env: NodeJS.ProcessEnv = {}) =>
  openDriver({
    flags,
    env: { CNBP_PLUGIN_PATH: pluginPath, CNBP_CONFIG: configPath, ...env },
    kind: "runtime",
    home: root,
  });

const failure = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CnbpError)) throw new Error(`expected a CnbpError, got ${String(err)}`);
  return `${err.code}: ${err.message}`;
};

describe("openDriver", () => {
  it("opens the configured Podman with options merged config < CNBP_DRIVER_OPTS < --driver-opt", async () => {
    await writeFile(
      configPath,
      'driver = "podman"\n\n[drivers.podman]\nbin = "no-such-podman"\nskopeo = "skopeo"\n',
    );
    const opened = await open(
      { driverOpts: ["bin=/usr/bin/podman"] },
      { CNBP_DRIVER_OPTS: "skopeo=/usr/bin/skopeo" },
    );
    expect([opened.name, opened.reason, opened.found.package]).toEqual([
      "podman",
      `config file ${configPath}`,
      "fixture-podman",
    ]);
    expect(opened.options).toEqual({
      values: { bin: "/usr/bin/podman", skopeo: "/usr/bin/skopeo" },
      sources: { bin: "--driver-opt", skopeo: "CNBP_DRIVER_OPTS" },
    });
    expect((await opened.driver.info()).engine).toBe("podman");
    expect(opened.config.values.driver).toBe("podman");
    // without the flag the config file's bin is used, and this Podman cannot be run
    const fromConfig = await open({});
    expect(await failure(fromConfig.driver.info())).toMatch(
      /^CNBP_DRIVER_UNAVAILABLE: driver podman: info: cannot run no-such-podman: /,
    );
  });

  it("auto-detects with each candidate's own options: a Podman that cannot run makes it docker", async () => {
    await writeFile(configPath, '[drivers.podman]\nbin = "no-such-podman"\n');
    const opened = await open({});
    expect([opened.name, opened.reason, opened.driver.name]).toEqual(["docker", "auto-detected", "docker"]);
    const real = await open({ driverOpts: [] }, { CNBP_CONFIG: join(root, "absent.toml") });
    expect([real.name, real.reason, real.options]).toEqual(["podman", "auto-detected", undefined]);
  });

  it("names an unknown or invalid option with where it was set and what the driver takes", async () => {
    expect(await failure(open({ driver: "podman", driverOpts: ["foo=1"] }))).toBe(
      'CNBP_DRIVER_OPTIONS: driver podman: unknown option "foo" (from --driver-opt); it takes: bin, skopeo, network',
    );
    expect(await failure(open({ driver: "podman", driverOpts: ["network=bridge"] }))).toBe(
      'CNBP_DRIVER_OPTIONS: driver podman: option network (from --driver-opt) "bridge" must be one of "slirp4netns", "podman-default"',
    );
    expect(await failure(open({ driver: "podman" }, { CNBP_DRIVER_OPTS: "bin=" }))).toBe(
      "CNBP_DRIVER_OPTIONS: driver podman: option bin (from CNBP_DRIVER_OPTS) must not be empty",
    );
    await writeFile(configPath, "[drivers.podman]\nbin = 1\n");
    expect(await failure(open({ driver: "podman" }))).toBe(
      `CNBP_DRIVER_OPTIONS: driver podman: option bin (from config file ${configPath}) must be a string, found an integer 1 (quote it: "1")`,
    );
    expect(await failure(open({ driver: "docker", driverOpts: ["host=unix:///x.sock"] }))).toBe(
      "CNBP_DRIVER_OPTIONS: driver docker: takes no options, but was given host (from --driver-opt)",
    );
  });

  it("refuses malformed key=value lists and an invalid config file before loading anything", async () => {
    expect(await failure(open({ driver: "podman" }, { CNBP_DRIVER_OPTS: "bin=podman,skopeo" }))).toBe(
      'CNBP_USAGE: CNBP_DRIVER_OPTS "skopeo" is not key=value',
    );
    expect(await failure(open({ driver: "podman", driverOpts: ["=x"] }))).toBe(
      'CNBP_USAGE: --driver-opt "=x" is not key=value',
    );
    await writeFile(configPath, 'drivr = "podman"\n');
    expect(await failure(open({}))).toBe(`CNBP_INVALID_FILE: ${configPath}:1: drivr is not a known field`);
  });
});
