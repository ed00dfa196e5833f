import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { loadConfig, saveConfig } from "./file.js";
import { configFilePath } from "./path.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-config-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The message loading `text` as a config file fails with. */
async function loadError(text: string): Promise<string> {
  const file = join(root, "config.toml");
  await writeFile(file, text);
  const err = await loadConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${String(err)}`);
  return err.message.replace(file, "<file>");
}

describe("configFilePath", () => {
  it("is CNBP_CONFIG, else under an absolute XDG_CONFIG_HOME, else under ~/.config", () => {
    expect(configFilePath({ CNBP_CONFIG: "/etc/cnbp.toml", XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe(
      "/etc/cnbp.toml",
    );
    expect(configFilePath({ XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe("/xdg/cnbp/config.toml");
    expect(configFilePath({ XDG_CONFIG_HOME: "rel" }, "/home/u")).toBe("/home/u/.config/cnbp/config.toml");
    expect(configFilePath({ CNBP_CONFIG: "" }, "/home/u")).toBe("/home/u/.config/cnbp/config.toml");
  });
});

describe("loadConfig", () => {
  it("reads every setting, and a missing file is an empty config", async () => {
    const file = join(root, "config.toml");
    expect(await loadConfig(file)).toEqual({ path: file, values: {} });
    await writeFile(
      file,
      `driver = "podman"
default-builder = "127.0.0.1:5000/me/builder:1"
pull-policy = "never"
trusted-builders = ["127.0.0.1:5000/me/builder:1", "me/other"]

[drivers.podman]
bin = "/usr/bin/podman"

[drivers.k8s]
timeout = 30
privileged = false
`,
    );
    expect(await loadConfig(file)).toEqual({
      path: file,
      values: {
        driver: "podman",
        "default-builder": "127.0.0.1:5000/me/builder:1",
        "pull-policy": "never",
        "trusted-builders": ["127.0.0.1:5000/me/builder:1", "me/other"],
        drivers: { podman: { bin: "/usr/bin/podman" }, k8s: { timeout: 30, privileged: false } },
      },
    });
  });

  it("names the file, the line and the key of every kind of mistake", async () => {
    expect(await loadError('driver = "podman"\ncolor = "blue"\n')).toBe(
      "<file>:2: color is not a known field",
    );
    expect(await loadError('driver = "podman"\npull-policy = "sometimes"\n')).toBe(
      '<file>:2: pull-policy "sometimes" must be one of "always", "if-not-present", "never"',
    );
    expect(await loadError('driver = "Podman"\n')).toBe(
      "<file>:1: driver \"Podman\" is not a valid driver name (lowercase letters, digits and '-', starting with a letter)",
    );
    expect(await loadError('trusted-builders = ["ok/one", "Not Valid"]\n')).toBe(
      '<file>:1: trusted-builders[1] "Not Valid" is not a valid image reference: repository name "Not Valid" must be lowercase',
    );
    expect(await loadError("[drivers.podman]\nbin = [1]\n")).toBe(
      "<file>:2: drivers.podman.bin must be a string, a number or a boolean, found an array",
    );
    expect(await loadError("[drivers.Podman]\nbin = 1\n")).toBe(
      "<file>:1: drivers.Podman is not a valid driver name (lowercase letters, digits and '-')",
    );
  });

  it("names the file, line and column of a TOML syntax error", async () => {
    expect(await loadError('driver = "podman"\npull-policy = \n')).toBe(
      "<file>:2:15: is not valid TOML: invalid value",
    );
  });
});

describe("saveConfig", () => {
  it("writes the settings in a fixed order, creating the folders, readable by its owner only", async () => {
    const file = join(root, "a", "b", "config.toml");
    await saveConfig(file, {
      drivers: {
        podman: { bin: "/usr/bin/podman" },
        docker: { host: "unix:///run/docker.sock", tls: false },
      },
      "trusted-builders": ["me/builder"],
      "pull-policy": "if-not-present",
      driver: "podman",
    });
    expect(await readFile(file, "utf8")).toBe(`driver = "podman"
pull-policy = "if-not-present"
trusted-builders = [ "me/builder" ]

[drivers.docker]
host = "unix:///run/docker.sock"
tls = false

[drivers.podman]
bin = "/usr/bin/podman"
`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(root, "a", "b"))).toEqual(["config.toml"]);
    expect((await loadConfig(file)).values.drivers?.docker).toEqual({
      host: "unix:///run/docker.sock",
      tls: false,
    });
  });

  it("refuses values that do not validate and leaves the file as it was", async () => {
    const file = join(root, "config.toml");
    await saveConfig(file, { driver: "podman" });
    const err = await saveConfig(file, { "pull-policy": "sometimes" as "never" }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `${file}: pull-policy "sometimes" must be one of "always", "if-not-present", "never"`,
    );
    expect(await readFile(file, "utf8")).toBe('driver = "podman"\n');
    expect(await readdir(root)).toEqual(["config.toml"]);
  });
});
