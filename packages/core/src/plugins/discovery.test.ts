import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DriverDiscovery, findDriver } from "./discovery.js";
import { driverPackageJson, minimalDriverSource, writePackage } from "./test-support/packages.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-discovery-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const home = () => join(root, "home");
const discover = (env: NodeJS.ProcessEnv, builtin: string[] = []) =>
  new DriverDiscovery(builtin, env, home()).discover();

const nerdctl = (dir: string, version = "1.0.0") =>
  writePackage(dir, {
    "package.json": driverPackageJson(
      "cnbp-driver-nerdctl",
      [{ name: "nerdctl", kinds: ["runtime", "build"], module: "./dist/index.js" }],
      version,
    ),
    "dist/index.js": minimalDriverSource("nerdctl"),
  });

describe("DriverDiscovery", () => {
  it("reports a valid package named in CNBP_PLUGIN_PATH", async () => {
    const dir = await nerdctl(join(root, "nerdctl"));
    expect(await discover({ CNBP_PLUGIN_PATH: dir })).toEqual({
      drivers: [
        {
          name: "nerdctl",
          kinds: ["runtime", "build"],
          package: "cnbp-driver-nerdctl",
          version: "1.0.0",
          dir,
          source: "CNBP_PLUGIN_PATH",
          module: join(dir, "dist/index.js"),
          status: "ok",
        },
      ],
      problems: [],
    });
  });

  it("scans node_modules trees: the user's plugin folder under XDG_DATA_HOME, scoped packages, not other packages", async () => {
    const modules = join(root, "data", "cnbp", "plugins", "node_modules");
    await nerdctl(join(modules, "cnbp-driver-nerdctl"));
    await writePackage(join(modules, "@acme", "cnbp-driver-kata"), {
      "package.json": driverPackageJson("@acme/cnbp-driver-kata", [
        { name: "kata", kinds: ["runtime"], module: "./index.js" },
      ]),
      "index.js": minimalDriverSource("kata"),
    });
    await writePackage(join(modules, "left-pad"), { "package.json": { name: "left-pad", version: "1.3.0" } });
    const { drivers, problems } = await discover({ XDG_DATA_HOME: join(root, "data") });
    expect(drivers.map((d) => [d.name, d.package, d.source, d.status])).toEqual([
      ["kata", "@acme/cnbp-driver-kata", "user", "ok"],
      ["nerdctl", "cnbp-driver-nerdctl", "user", "ok"],
    ]);
    expect(problems).toEqual([]);
  });

  it("falls back to ~/.local/share/cnbp/plugins, and a missing user folder is no problem", async () => {
    expect(await discover({})).toEqual({ drivers: [], problems: [] });
    await nerdctl(join(home(), ".local", "share", "cnbp", "plugins", "node_modules", "cnbp-driver-nerdctl"));
    expect((await discover({ XDG_DATA_HOME: "relative/ignored" })).drivers.map((d) => d.name)).toEqual([
      "nerdctl",
    ]);
  });

  it("lists built-in packages only when their package.json declares drivers", async () => {
    const docker = await writePackage(join(root, "driver-docker"), {
      "package.json": { name: "@cnbp/driver-docker", version: "0.1.0" },
    });
    const podman = await writePackage(join(root, "driver-podman"), {
      "package.json": {
        name: "@cnbp/driver-podman",
        version: "0.1.0",
        cnbp: { apiVersion: 1, drivers: [{ name: "podman", kinds: ["runtime"], module: "./dist/index.js" }] },
      },
      "dist/index.js": minimalDriverSource("podman"),
    });
    const { drivers, problems } = await discover({}, [docker, podman]);
    expect(drivers.map((d) => [d.name, d.package, d.source, d.status])).toEqual([
      ["podman", "@cnbp/driver-podman", "builtin", "ok"],
    ]);
    expect(problems).toEqual([]);
  });

  it("reports an invalid manifest under the names it declares, with the field path", async () => {
    const dir = await writePackage(join(root, "bad"), {
      "package.json": driverPackageJson("cnbp-driver-bad", [
        { name: "bad", kinds: ["runtime", "push"], module: "./index.js" },
        { name: "Worse", kinds: ["build"], module: "index.js" },
      ]),
    });
    const { drivers } = await discover({ CNBP_PLUGIN_PATH: dir });
    expect(drivers.map((d) => [d.name, d.kinds, d.status, d.reason])).toEqual([
      [
        "bad",
        [],
        "broken",
        'invalid manifest: cnbp.drivers[0].kinds[1] "push" must be one of "runtime", "build" (and 2 more)',
      ],
      [
        "Worse",
        [],
        "broken",
        'invalid manifest: cnbp.drivers[0].kinds[1] "push" must be one of "runtime", "build" (and 2 more)',
      ],
    ]);
  });

  it("names the package when a manifest declares no readable driver, and a keyword without a manifest", async () => {
    const empty = await writePackage(join(root, "empty"), {
      "package.json": { name: "cnbp-driver-empty", version: "2.0.0", cnbp: { apiVersion: 1, drivers: [] } },
    });
    const keywordOnly = await writePackage(join(root, "kw"), {
      "package.json": { name: "cnbp-driver-kw", version: "0.0.1", keywords: ["cnbp-driver"] },
    });
    const { drivers } = await discover({ CNBP_PLUGIN_PATH: [empty, keywordOnly].join(delimiter) });
    expect(drivers.map((d) => [d.name, d.version, d.reason])).toEqual([
      ["cnbp-driver-empty", "2.0.0", "invalid manifest: cnbp.drivers must have at least 1 entry"],
      ["cnbp-driver-kw", "0.0.1", "invalid manifest: cnbp is required"],
    ]);
  });

  it("refuses another apiVersion", async () => {
    const dir = await writePackage(join(root, "future"), {
      "package.json": {
        ...driverPackageJson("cnbp-driver-future", [
          { name: "future", kinds: ["runtime"], module: "./x.js" },
        ]),
        cnbp: { apiVersion: 2, drivers: [{ name: "future", kinds: ["runtime"], module: "./x.js" }] },
      },
    });
    const { drivers } = await discover({ CNBP_PLUGIN_PATH: dir });
    expect(drivers.map((d) => [d.name, d.status, d.reason])).toEqual([
      ["future", "broken", "unsupported apiVersion 2 (this cnbp supports 1)"],
    ]);
  });

  it("keeps a name for the first working driver and marks later ones as duplicates", async () => {
    const user = join(root, "data", "cnbp", "plugins", "node_modules");
    await nerdctl(join(user, "cnbp-driver-nerdctl"), "1.0.0");
    const fork = await writePackage(join(root, "fork"), {
      "package.json": driverPackageJson("nerdctl-fork", [
        { name: "nerdctl", kinds: ["runtime"], module: "./index.js" },
      ]),
      "index.js": minimalDriverSource("nerdctl"),
    });
    const discovery = await discover({ XDG_DATA_HOME: join(root, "data"), CNBP_PLUGIN_PATH: fork });
    expect(discovery.drivers.map((d) => [d.package, d.status, d.reason])).toEqual([
      ["cnbp-driver-nerdctl", "ok", undefined],
      [
        "nerdctl-fork",
        "broken",
        'duplicate name: cnbp-driver-nerdctl (user) already provides driver "nerdctl"',
      ],
    ]);
    expect(findDriver(discovery, "nerdctl")?.package).toBe("cnbp-driver-nerdctl");
    expect(findDriver(discovery, "docker")).toBeUndefined();
  });

  it("refuses a manifest that declares one name twice", async () => {
    const dir = await writePackage(join(root, "twice"), {
      "package.json": driverPackageJson("twice", [
        { name: "a", kinds: ["runtime"], module: "./a.js" },
        { name: "a", kinds: ["build"], module: "./b.js" },
      ]),
    });
    const { drivers } = await discover({ CNBP_PLUGIN_PATH: dir });
    expect(drivers[0]?.reason).toBe(
      'invalid manifest: cnbp.drivers[1].name "a" is already declared by drivers[0]',
    );
  });

  it("reports a missing module file", async () => {
    const dir = await writePackage(join(root, "unbuilt"), {
      "package.json": driverPackageJson("cnbp-driver-unbuilt", [
        { name: "unbuilt", kinds: ["build"], module: "./dist/index.js" },
      ]),
    });
    const { drivers } = await discover({ CNBP_PLUGIN_PATH: dir });
    expect(drivers.map((d) => [d.name, d.kinds, d.status, d.reason])).toEqual([
      ["unbuilt", ["build"], "broken", "module file ./dist/index.js is missing (is the package built?)"],
    ]);
  });

  it("reports paths that hold no package without throwing", async () => {
    const notJson = await writePackage(join(root, "tree", "garbled"), { "package.json": "{ not json" });
    const plain = await writePackage(join(root, "plain"), { "package.json": { name: "plain" } });
    const missing = join(root, "nowhere");
    const { drivers, problems } = await discover({
      CNBP_PLUGIN_PATH: [missing, join(root, "tree"), plain].join(delimiter),
    });
    expect(drivers).toEqual([]);
    expect(problems.map((p) => [p.path, p.reason.replace(/:.*/, "")])).toEqual([
      [missing, "no such directory"],
      [join(notJson, "package.json"), "cannot read it"],
      [plain, "not a cnbp driver package (no cnbp field)"],
    ]);
  });
});
