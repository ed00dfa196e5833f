import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CnbpError, UsageError } from "../errors.js";
import { locateImage, readImageConfig } from "./image-source.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-locate-"));
  await mkdir(join(dir, "layout"));
  await writeFile(join(dir, "bp.cnb"), "");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("locateImage", () => {
  it("reads oci:<dir>, oci:<dir>:<name>, an existing file and a reference with a registry", async () => {
    expect(await locateImage(`oci:${dir}/layout`)).toEqual({ kind: "layout", dir: `${dir}/layout` });
    expect(await locateImage(`oci:${dir}/layout:builder`)).toEqual({
      kind: "layout",
      dir: `${dir}/layout`,
      selector: "builder",
    });
    expect(await locateImage(join(dir, "bp.cnb"))).toEqual({ kind: "archive", file: join(dir, "bp.cnb") });
    expect(await locateImage("127.0.0.1:5000/a/b:1")).toEqual({
      kind: "registry",
      reference: { registry: "127.0.0.1:5000", repository: "a/b", tag: "1" },
    });
  });

  it("places names without a registry host in an engine's store; refuses invalid references, a missing .cnb", async () => {
    for (const name of ["builder", "my/builder:1", "localhost/cnbp-stacks/run"]) {
      expect(await locateImage(name)).toEqual({ kind: "store", name });
    }
    await expect(readImageConfig("my/builder:1")).rejects.toMatchObject({
      code: "CNBP_USAGE",
      message: `"my/builder:1" names an image in a container engine's store, which this command does not read`,
    });
    await expect(locateImage("Registry.example/A")).rejects.toThrow(
      new UsageError(
        '"Registry.example/A" is not a valid image reference: repository name "A" must be lowercase',
      ),
    );
    const missing = locateImage(join(dir, "nope.cnb"));
    await expect(missing).rejects.toBeInstanceOf(CnbpError);
    await expect(missing).rejects.toThrow(`${join(dir, "nope.cnb")}: no such file`);
  });
});
