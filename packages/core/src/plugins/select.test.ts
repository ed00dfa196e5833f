import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { type Discovery, DriverDiscovery, type FoundDriver } from "./discovery.js";
import { loadDriver } from "./loader.js";
import { selectDriver } from "./select.js";
import { driverPackageJson, minimalDriverSource, writePackage } from "./test-support/packages.js";
import { writeRealPodmanPackage } from "./test-support/real-podman.js";

let root: string;
let all: Discovery;
let podmanOnly: Discovery;
const config = { driver: "podman", path: "/home/u/.config/cnbp/config.toml" };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-select-"));
  const podman = await writeRealPodmanPackage(root);
  const docker = await writePackage(join(root, "docker"), {
    "package.json": driverPackageJson("fixture-docker", [
      { name: "docker", kinds: ["runtime", "build"], module: "./index.js" },
    ]),
    "index.js": minimalDriverSource("docker"),
  });
  const kaniko = await writePackage(join(root, "kaniko"), {
    "package.json": driverPackageJson("cnbp-driver-kaniko", [
      { name: "kaniko", kinds: ["build"], module: "./index.js" },
    ]),
    "index.js": minimalDriverSource("kaniko"),
  });
  const discover = (paths: string[]) =>
    new DriverDiscovery([], { CNBP_PLUGIN_PATH: paths.join(delimiter) }, root).discover();
  all = await discover([podman, docker, kaniko]);
  podmanOnly = await discover([podman]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Podman's driver made with an executable that does not exist, so its engine never answers. */
const noPodman = (found: FoundDriver) =>
  loadDriver(found, found.name === "podman" ? { bin: join(root, "no-podman") } : undefined);

const rejection = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CnbpError)) throw new Error(`expected a CnbpError, got ${String(err)}`);
  return { code: err.code, message: err.message, hints: err.hints };
};

describe("selectDriver", () => {
  it("takes --driver over CNBP_DRIVER over the config file, and says which", async () => {
    const pick = async (
      flag: string | undefined,
      env: NodeJS.ProcessEnv,
      cfg: { driver?: string; path: string } = config,
    ) => {
      const s = await selectDriver({ flag, env, config: cfg, discovered: all, kind: "runtime" });
      return [s.name, s.reason, s.found.package, s.driver];
    };
    expect(await pick("docker", { CNBP_DRIVER: "podman" })).toEqual([
      "docker",
      "--driver",
      "fixture-docker",
      undefined,
    ]);
    expect(await pick(undefined, { CNBP_DRIVER: "docker" })).toEqual([
      "docker",
      "CNBP_DRIVER",
      "fixture-docker",
      undefined,
    ]);
    expect(await pick(undefined, { CNBP_DRIVER: "" })).toEqual([
      "podman",
      "config file /home/u/.config/cnbp/config.toml",
      "fixture-podman",
      undefined,
    ]);
    expect(await pick("kaniko", {}, { path: "x" }).catch((e: Error) => e.message)).toBe(
      "driver kaniko (from --driver) is not a runtime driver (it is: build)",
    );
  });

  it("auto-detects the real Podman first when nothing names a driver", async () => {
    const s = await selectDriver({ env: {}, config: { path: "x" }, discovered: all, kind: "runtime" });
    expect([s.name, s.reason, s.found.package]).toEqual(["podman", "auto-detected", "fixture-podman"]);
    expect(s.driver && "info" in s.driver && (await s.driver.info()).engine).toBe("podman");
  });

  it("goes on to docker when Podman does not answer, and says what it tried when nothing does", async () => {
    const s = await selectDriver({ env: {}, discovered: all, kind: "runtime", load: noPodman });
    expect([s.name, s.reason, s.driver?.name]).toEqual(["docker", "auto-detected", "docker"]);
    const none = await rejection(
      selectDriver({ env: {}, discovered: podmanOnly, kind: "build", load: noPodman }),
    );
    expect(none).toEqual({
      code: "CNBP_NO_DRIVER",
      message:
        `no container engine answered; tried podman (driver podman: info: cannot run ${join(root, "no-podman")}: ` +
        `spawn ${join(root, "no-podman")} ENOENT), docker (not installed)`,
      hints: [
        "choose a driver with --driver <name>, CNBP_DRIVER=<name> or `cnbp config set driver <name>`",
        "`cnbp driver list` shows the drivers cnbp finds and why a broken one cannot be used",
      ],
    });
  });

  it("names the setting of a driver that is not installed and lists the ones that are", async () => {
    expect(
      await rejection(selectDriver({ env: { CNBP_DRIVER: "nerdctl" }, discovered: all, kind: "build" })),
    ).toEqual({
      code: "CNBP_DRIVER_NOT_FOUND",
      message: 'driver "nerdctl" (from CNBP_DRIVER) is not installed',
      hints: [
        "build drivers installed: podman, docker, kaniko",
        "install a driver package with `cnbp driver install <npm package>`",
      ],
    });
    const empty = { drivers: [], problems: [] };
    expect(
      (await rejection(selectDriver({ env: {}, config, discovered: empty, kind: "runtime" }))).hints[0],
    ).toBe("no runtime driver is installed");
  });
});
