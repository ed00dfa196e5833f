import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Environment, LAYER_PATHS } from "./environment.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-env-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function envDir(name: string, files: Record<string, string>): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(path, file), content);
  return path;
}

describe("Environment", () => {
  it("keeps only the variables modules may see from the lifecycle's own", () => {
    const env = Environment.forModules({
      PATH: "/bin",
      HOME: "/home/cnb",
      CNB_STACK_ID: "s",
      CNB_REGISTRY_AUTH: "{}",
      CNB_LAYERS_DIR: "/layers",
      FOO: "bar",
      https_proxy: "http://proxy",
    });
    expect(env.toRecord()).toEqual({
      PATH: "/bin",
      HOME: "/home/cnb",
      CNB_STACK_ID: "s",
      https_proxy: "http://proxy",
    });
  });

  it("applies env files by suffix, byte for byte, with the directory's delimiter", async () => {
    const env = new Environment({ APPENDED: "a", PREPENDED: "p", KEPT: "k", REPLACED: "old" });
    await env.applyEnvDir(
      await envDir("suffixes", {
        "APPENDED.append": "b",
        "APPENDED.delim": ":",
        "PREPENDED.prepend": "q",
        "KEPT.default": "ignored",
        "FRESH.default": "new",
        "REPLACED.override": "new\n",
        PLAIN: "plain",
        "EMPTY.append": "first",
        "OTHER.weird": "ignored",
      }),
    );
    expect(env.toRecord()).toEqual({
      APPENDED: "a:b",
      PREPENDED: "qp",
      KEPT: "k",
      FRESH: "new",
      REPLACED: "new\n",
      PLAIN: "plain",
      EMPTY: "first",
    });
  });

  it("lets the operator's unsuffixed files only default", async () => {
    const env = new Environment({ SET: "mine" });
    await env.applyEnvDir(await envDir("operator", { SET: "theirs", UNSET: "theirs" }), "default");
    expect(env.toRecord()).toEqual({ SET: "mine", UNSET: "theirs" });
  });

  it("prepends the platform's path variables and overrides the others, following symlinks", async () => {
    const platform = join(dir, "platform");
    await envDir("platform/env", { PATH: "/user/bin", JAVA_HOME: "/jdk" });
    await symlink(join(platform, "env", "JAVA_HOME"), join(platform, "env", "LINKED"));
    await mkdir(join(platform, "env", "A_DIR"));
    const env = new Environment({ PATH: "/bin", JAVA_HOME: "/old" });
    await env.applyPlatformEnv(platform);
    expect(env.toRecord()).toEqual({ PATH: "/user/bin:/bin", JAVA_HOME: "/jdk", LINKED: "/jdk" });
  });

  it("prepends a layer's bin and lib dirs as build and launch each want them", async () => {
    const layer = join(dir, "layer");
    await mkdir(join(layer, "bin"), { recursive: true });
    await mkdir(join(layer, "lib"), { recursive: true });
    const build = new Environment({ PATH: "/bin" });
    await build.addLayerPaths(layer, LAYER_PATHS.build);
    expect(build.toRecord()).toEqual({
      PATH: `${layer}/bin:/bin`,
      LD_LIBRARY_PATH: `${layer}/lib`,
      LIBRARY_PATH: `${layer}/lib`,
    });
    const launch = new Environment({ PATH: "/bin" });
    await launch.addLayerPaths(layer, LAYER_PATHS.launch);
    expect(launch.toRecord()).toEqual({ PATH: `${layer}/bin:/bin`, LD_LIBRARY_PATH: `${layer}/lib` });
  });
});
