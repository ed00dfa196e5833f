/** The lifecycle as platforms start it: a process named by its phase, with exit codes from the Platform API. */
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inRegistry, REGISTRY, REPO_ROOT, STACKS } from "#test-utils";

const MAIN = join(REPO_ROOT, "packages/lifecycle/dist/main.js");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-lifecycle-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (file: string, args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [file, ...args], {
    env: { ...env },
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });

describe("the lifecycle entry point", () => {
  it("runs the phase it is named after, as /cnb/lifecycle/<phase> links do", async () => {
    const link = join(dir, "analyzer");
    await symlink(MAIN, link);
    const layers = join(dir, "layers");
    const r = await run(
      link,
      ["-layers", layers, "-run-image", inRegistry(STACKS.busybox.run), `${REGISTRY}/cnbp-test/cli/app:1`],
      {
        CNB_PLATFORM_API: "0.15",
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(join(layers, "analyzed.toml"), "utf8")).toContain('reference = ""');
  });

  it("takes the phase or its Go verb as the first argument", async () => {
    const r = await run(MAIN, ["analyze", "-version"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "0.1.0" });
  });

  it("exits 11 without CNB_PLATFORM_API and 3 on an unknown phase", async () => {
    expect(await run(MAIN, ["exporter", "a/b"])).toMatchObject({
      exitCode: 11,
      stderr: "ERROR: CNB_PLATFORM_API is not set: the platform must set it to one of 0.12, 0.13, 0.14, 0.15",
    });
    const unknown = await run(MAIN, ["nope"]);
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toBe(
      "usage: lifecycle <phase> [flags]: phases are analyzer, builder, creator, detector, exporter, rebaser, restorer",
    );
  });
});
