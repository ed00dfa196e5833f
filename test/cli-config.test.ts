/** `cnbp config` as a user runs it, on a config file in a temporary folder (CNBP_CONFIG). */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp } from "#test-utils";

let root: string;
let file: string;
const config = (args: string[]) => cnbp(["config", ...args], { env: { CNBP_CONFIG: file } });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-config-cli-"));
  file = join(root, "nested", "config.toml");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("cnbp config", () => {
  it("sets, gets and lists settings, writing exactly them to a private file", async () => {
    expect(await config(["list"])).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(await config(["set", "driver", "podman"])).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(await config(["set", "drivers.podman.bin", "/usr/bin/podman"])).toMatchObject({ exitCode: 0 });
    expect(await config(["set", "pull-policy", "if-not-present"])).toMatchObject({ exitCode: 0 });
    expect(await config(["get", "driver"])).toEqual({ exitCode: 0, stdout: "podman", stderr: "" });
    expect(await config(["get", "drivers.podman"])).toEqual({
      exitCode: 0,
      stdout: 'drivers.podman.bin = "/usr/bin/podman"',
      stderr: "",
    });
    expect(await config(["list"])).toEqual({
      exitCode: 0,
      stdout: 'driver = "podman"\npull-policy = "if-not-present"\ndrivers.podman.bin = "/usr/bin/podman"',
      stderr: "",
    });
    expect(await readFile(file, "utf8")).toBe(
      'driver = "podman"\npull-policy = "if-not-present"\n\n[drivers.podman]\nbin = "/usr/bin/podman"\n',
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await config(["unset", "drivers.podman.bin"])).toMatchObject({ exitCode: 0 });
    expect(await config(["unset", "pull-policy"])).toMatchObject({ exitCode: 0 });
    expect(await readFile(file, "utf8")).toBe('driver = "podman"\n');
    expect(await config(["path"])).toEqual({ exitCode: 0, stdout: file, stderr: "" });
  });

  it("refuses bad keys and values with the key named, and changes nothing", async () => {
    const before = await readFile(file, "utf8");
    expect(await config(["set", "colour", "blue"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'error: unknown config key "colour"\n' +
        "  hint: config keys: driver, default-builder, pull-policy, trusted-builders, drivers.<driver>.<option>",
    });
    expect(await config(["set", "pull-policy", "sometimes"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'error: pull-policy "sometimes" must be one of "always", "if-not-present", "never"',
    });
    expect(await config(["set", "driver", "Docker"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "error: driver \"Docker\" is not a valid driver name (lowercase letters, digits and '-', starting with a letter)",
    });
    expect(await config(["get", "default-builder"])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: default-builder is not set in ${file}\n  hint: set it with \`cnbp config set default-builder <value>\``,
    });
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("adds, lists and removes trusted builders", async () => {
    const trusted = (args: string[]) => config(["trusted-builders", ...args]);
    expect(await trusted(["add", "127.0.0.1:5000/me/builder"])).toEqual({
      exitCode: 0,
      stdout: "",
      stderr: "",
    });
    expect(await trusted(["add", "me/other:1"])).toMatchObject({ exitCode: 0 });
    expect(await trusted(["add", "docker.io/me/other:1"])).toMatchObject({ exitCode: 0 });
    expect(await trusted(["list"])).toEqual({
      exitCode: 0,
      stdout: "127.0.0.1:5000/me/builder\nme/other:1",
      stderr: "",
    });
    expect(await config(["get", "trusted-builders"])).toMatchObject({
      stdout: "127.0.0.1:5000/me/builder\nme/other:1",
    });
    expect(await trusted(["remove", "index.docker.io/me/other:1"])).toEqual({
      exitCode: 0,
      stdout: "",
      stderr: "",
    });
    expect(await trusted(["remove", "me/other:1"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "error: me/other:1 is not a trusted builder\n  hint: `cnbp config trusted-builders list` shows the trusted builders",
    });
    expect(await trusted(["add", "Me/B"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'error: "Me/B" is not a valid image reference: repository name "B" must be lowercase',
    });
    expect(await readFile(file, "utf8")).toBe(
      'driver = "podman"\ntrusted-builders = [ "127.0.0.1:5000/me/builder" ]\n',
    );
  });

  it("names the file, line and column of a config file that does not read, and finds it under XDG_CONFIG_HOME", async () => {
    const xdg = join(root, "xdg");
    const broken = join(xdg, "cnbp", "config.toml");
    await cnbp(["config", "set", "driver", "podman"], { env: { XDG_CONFIG_HOME: xdg } });
    await writeFile(broken, `${await readFile(broken, "utf8")}color = "blue"\npull-policy = \n`);
    expect(await cnbp(["config", "list"], { env: { XDG_CONFIG_HOME: xdg } })).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${broken}:3:15: is not valid TOML: invalid value`,
    });
    await writeFile(broken, 'driver = "podman"\ncolor = "blue"\n');
    expect(await cnbp(["config", "get", "driver"], { env: { XDG_CONFIG_HOME: xdg } })).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `error: ${broken}:2: color is not a known field`,
    });
  });
});
