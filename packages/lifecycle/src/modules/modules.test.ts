import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notExecutable, runExecutable } from "./run.js";
import { ModuleError, ModuleStore } from "./store.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-modules-"));
  await chmod(dir, 0o755);
  await mkdir(join(dir, "buildpacks", "example_node", "1.0.0", "bin"), { recursive: true });
  await writeFile(
    join(dir, "buildpacks", "example_node", "1.0.0", "buildpack.toml"),
    'api = "0.10"\n[buildpack]\nid = "example/node"\nversion = "1.0.0"\nhomepage = "https://example.com"\nclear-env = true\n',
  );
  await writeFile(
    join(dir, "script"),
    '#!/bin/sh\necho "out $1 $FOO $(id -u):$(id -g) $PWD"\necho err >&2\nexit 7\n',
  );
  await chmod(join(dir, "script"), 0o755);
  await writeFile(join(dir, "plain"), "not executable\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ModuleStore", () => {
  const store = () =>
    new ModuleStore({ buildpacks: join(dir, "buildpacks"), extensions: join(dir, "extensions") });

  it("reads a module by kind, id and version from its escaped directory", async () => {
    const bp = await store().get("buildpack", "example/node", "1.0.0");
    expect(bp).toMatchObject({
      kind: "buildpack",
      id: "example/node",
      version: "1.0.0",
      api: "0.10",
      dir: join(dir, "buildpacks", "example_node", "1.0.0"),
      homepage: "https://example.com",
      clearEnv: true,
    });
  });

  it("names the missing descriptor", async () => {
    const missing = store().get("extension", "example/ext", "2.0.0");
    await expect(missing).rejects.toBeInstanceOf(ModuleError);
    await expect(missing).rejects.toThrow(
      `cannot read extension example/ext@2.0.0: ${join(dir, "extensions", "example_ext", "2.0.0", "extension.toml")} does not exist`,
    );
  });
});

describe("runExecutable", () => {
  it("runs with exactly the env, args and cwd given, as the build user, and returns its exit code", async () => {
    const r = await runExecutable({
      path: join(dir, "script"),
      args: ["arg1"],
      env: { FOO: "bar", PATH: "/usr/bin:/bin" },
      cwd: dir,
      user: { uid: 1000, gid: 1001 },
      output: "collect",
    });
    const ids = process.getuid?.() === 0 ? "1000:1001" : `${process.getuid?.()}:${process.getgid?.()}`;
    expect(r).toEqual({ exitCode: 7, output: `out arg1 bar ${ids} ${dir}\nerr\n` });
  });

  it("says why a file cannot run", async () => {
    expect(await notExecutable(join(dir, "script"))).toBeUndefined();
    expect(await notExecutable(join(dir, "nope"))).toBe(`${join(dir, "nope")} does not exist`);
    // root too: a file without an execute bit cannot run
    expect(await notExecutable(join(dir, "plain"))).toBe(`${join(dir, "plain")} is not executable`);
  });
});
