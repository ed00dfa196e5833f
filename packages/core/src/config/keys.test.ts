import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { loadConfig, saveConfig } from "./file.js";
import {
  addTrustedBuilder,
  getConfigValue,
  isTrustedBuilder,
  listConfig,
  removeTrustedBuilder,
  setConfigValue,
  unsetConfigValue,
} from "./keys.js";
import type { CnbpConfig } from "./schema.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-config-keys-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return { message: err.message, hints: err.hints };
    throw err;
  }
  throw new Error("expected a UsageError");
};

describe("config keys", () => {
  it("sets, gets, lists and unsets settings as dotted keys, and the file says exactly that", async () => {
    let values: CnbpConfig = {};
    values = setConfigValue(values, "drivers.podman.bin", "/usr/bin/podman");
    values = setConfigValue(values, "driver", "podman");
    values = setConfigValue(values, "trusted-builders", " me/a , 127.0.0.1:5000/me/b:1,");
    values = setConfigValue(values, "pull-policy", "never");
    values = setConfigValue(values, "drivers.podman.skopeo", "skopeo");
    values = setConfigValue(values, "default-builder", "me/a");
    const file = join(root, "set.toml");
    await saveConfig(file, values);
    expect(await readFile(file, "utf8")).toBe(`driver = "podman"
default-builder = "me/a"
pull-policy = "never"
trusted-builders = [ "me/a", "127.0.0.1:5000/me/b:1" ]

[drivers.podman]
bin = "/usr/bin/podman"
skopeo = "skopeo"
`);
    const loaded = (await loadConfig(file)).values;
    expect(getConfigValue(loaded, "driver")).toBe("podman");
    expect(getConfigValue(loaded, "trusted-builders")).toEqual(["me/a", "127.0.0.1:5000/me/b:1"]);
    expect(getConfigValue(loaded, "drivers.podman")).toEqual({ bin: "/usr/bin/podman", skopeo: "skopeo" });
    expect(getConfigValue(loaded, "drivers.podman.bin")).toBe("/usr/bin/podman");
    expect(getConfigValue(loaded, "drivers.docker.host")).toBeUndefined();
    expect(listConfig(loaded)).toEqual([
      ["driver", "podman"],
      ["default-builder", "me/a"],
      ["pull-policy", "never"],
      ["trusted-builders", ["me/a", "127.0.0.1:5000/me/b:1"]],
      ["drivers.podman.bin", "/usr/bin/podman"],
      ["drivers.podman.skopeo", "skopeo"],
    ]);
    let less = unsetConfigValue(loaded, "drivers.podman.bin");
    expect(less.drivers).toEqual({ podman: { skopeo: "skopeo" } });
    less = unsetConfigValue(unsetConfigValue(less, "drivers.podman.skopeo"), "pull-policy");
    expect(less).toEqual({
      driver: "podman",
      "default-builder": "me/a",
      "trusted-builders": ["me/a", "127.0.0.1:5000/me/b:1"],
    });
    expect(unsetConfigValue(less, "drivers.nerdctl.x")).toEqual(less);
  });

  it("refuses unknown keys, tables and bad values, naming the key", () => {
    const hints = [
      "config keys: driver, default-builder, pull-policy, trusted-builders, drivers.<driver>.<option>",
    ];
    expect(usage(() => setConfigValue({}, "colour", "blue"))).toEqual({
      message: 'unknown config key "colour"',
      hints,
    });
    expect(usage(() => getConfigValue({}, "drivers.podman.bin.x"))).toEqual({
      message: 'unknown config key "drivers.podman.bin.x"',
      hints,
    });
    expect(usage(() => setConfigValue({}, "drivers.podman", "x"))).toEqual({
      message: "drivers.podman is a table: set one option, e.g. drivers.podman.bin",
      hints,
    });
    expect(usage(() => setConfigValue({}, "pull-policy", "sometimes")).message).toBe(
      'pull-policy "sometimes" must be one of "always", "if-not-present", "never"',
    );
    expect(usage(() => setConfigValue({}, "driver", "Docker")).message).toBe(
      "driver \"Docker\" is not a valid driver name (lowercase letters, digits and '-', starting with a letter)",
    );
    expect(usage(() => setConfigValue({}, "default-builder", "me/b@sha256:12")).message).toBe(
      'default-builder "me/b@sha256:12" is not a valid image reference: "sha256:12" is not a digest (algorithm:hex, e.g. sha256:<64 hex digits>)',
    );
    expect(usage(() => setConfigValue({}, "drivers.My_Driver.bin", "x")).message).toBe(
      "drivers.My_Driver is not a valid driver name (lowercase letters, digits and '-')",
    );
  });

  it("adds and removes trusted builders, comparing references normalised", () => {
    const one = addTrustedBuilder({}, "me/builder");
    expect(one).toEqual({ "trusted-builders": ["me/builder"] });
    expect(addTrustedBuilder(one, "docker.io/me/builder:latest")).toBe(one);
    expect(isTrustedBuilder(one, "index.docker.io/me/builder")).toBe(true);
    expect(isTrustedBuilder(one, "me/builder:2")).toBe(false);
    const two = addTrustedBuilder(one, "127.0.0.1:5000/me/b");
    expect(removeTrustedBuilder(two, "docker.io/me/builder")).toEqual({
      "trusted-builders": ["127.0.0.1:5000/me/b"],
    });
    expect(removeTrustedBuilder(addTrustedBuilder({ driver: "podman" }, "x/y"), "x/y")).toEqual({
      driver: "podman",
    });
    expect(usage(() => removeTrustedBuilder(one, "me/other"))).toEqual({
      message: "me/other is not a trusted builder",
      hints: ["`cnbp config trusted-builders list` shows the trusted builders"],
    });
    expect(usage(() => addTrustedBuilder({}, "Me/B")).message).toBe(
      '"Me/B" is not a valid image reference: repository name "B" must be lowercase',
    );
  });
});
