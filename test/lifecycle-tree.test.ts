/**
 * The /cnb/lifecycle tree, built as the package's build makes it, mounted into run images that have no libc
 * (busybox) and Debian's: the phases start with no shell, lifecycle.toml names the APIs, and two builds of
 * the same inputs are the same bytes.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, RUN_ID, STACKS } from "#test-utils";

const TREES = [join(tmpdir(), `cnbp-tree-a-${RUN_ID}`), join(tmpdir(), `cnbp-tree-b-${RUN_ID}`)];
const buildTree = (out: string) =>
  execa(process.execPath, [join(REPO_ROOT, "packages/lifecycle/scripts/build-tree.mjs"), out]);

/** Every file and link of a tree with its sha256 or target. */
async function fingerprint(root: string) {
  const entries = (await readdir(root, { recursive: true, withFileTypes: true })).filter(
    (e) => !e.isDirectory(),
  );
  const lines = await Promise.all(
    entries.map(async (e) => {
      const path = join(e.parentPath, e.name);
      const what = e.isSymbolicLink()
        ? `-> ${await readlink(path)}`
        : createHash("sha256")
            .update(await readFile(path))
            .digest("hex");
      return `${path.slice(root.length)} ${what}`;
    }),
  );
  return lines.sort();
}

const inImage = (image: string, args: string[]) =>
  execa("podman", ["run", "--rm", "-v", `${TREES[0]}:/cnb/lifecycle:ro`, image, ...args], { reject: false });

beforeAll(async () => {
  await Promise.all(TREES.map(buildTree));
});
afterAll(async () => {
  await Promise.all(TREES.map((t) => rm(t, { recursive: true, force: true })));
});

describe("the /cnb/lifecycle tree", () => {
  it("holds lifecycle.toml, the lifecycle, a link per phase, the launcher and the runtime, the same bytes every build", async () => {
    const [a, b] = await Promise.all(TREES.map((t) => fingerprint(t as string)));
    expect(a).toEqual(b);
    expect(a?.map((l) => l.split(" ")[0])).toEqual([
      "/analyzer",
      "/builder",
      "/creator",
      "/detector",
      "/exporter",
      "/launcher",
      "/launcher-layer.json",
      "/lifecycle",
      "/lifecycle.toml",
      "/rebaser",
      "/restorer",
      "/runtime/lib/ld-linux-x86-64.so.2",
      "/runtime/lib/libc.so.6",
      "/runtime/lib/libdl.so.2",
      "/runtime/lib/libgcc_s.so.1",
      "/runtime/lib/libm.so.6",
      "/runtime/lib/libpthread.so.0",
      "/runtime/lib/libstdc++.so.6",
      "/runtime/node",
    ]);
    expect(a).toContain("/analyzer -> lifecycle");
    expect(await readFile(join(TREES[0] as string, "lifecycle.toml"), "utf8")).toBe(
      [
        "[apis.buildpack]",
        "deprecated = []",
        'supported = [ "0.7", "0.8", "0.9", "0.10", "0.11", "0.12" ]',
        "",
        "[apis.platform]",
        "deprecated = []",
        'supported = [ "0.12", "0.13", "0.14", "0.15" ]',
        "",
        "[lifecycle]",
        'version = "0.1.0"',
        "",
      ].join("\n"),
    );
  });

  for (const [name, stack] of Object.entries(STACKS)) {
    it(`runs in the ${name} run image with no shell in between: -version, and a phase's exit code`, async () => {
      expect(await inImage(stack.run, ["/cnb/lifecycle/analyzer", "-version"])).toMatchObject({
        exitCode: 0,
        stdout: "0.1.0",
      });
      expect(await inImage(stack.run, ["/cnb/lifecycle/exporter", "reg.example/app:1"])).toMatchObject({
        exitCode: 11,
        stderr:
          "ERROR: CNB_PLATFORM_API is not set: the platform must set it to one of 0.12, 0.13, 0.14, 0.15",
      });
    });
  }
});
