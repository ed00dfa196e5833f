// Needs skopeo (scripts/engines/start.sh installs it).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DriverError } from "./errors.js";
import { layoutCopyFailed, skopeoCopy, withColonFreePath } from "./skopeo.js";

const scratch = await mkdtemp(join(tmpdir(), "cnbp-skopeo-test-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe("skopeo copy for the containers-storage drivers", () => {
  it("resolves to skopeo's exit and output; a directory that is no layout reads as an absent image", async () => {
    const r = await skopeoCopy(
      "podman",
      "skopeo",
      "images.importOciLayout",
      `oci:${scratch}:x`,
      `dir:${scratch}/out`,
    );
    expect(r.exitCode).not.toBe(0);
    const err = layoutCopyFailed("podman", "images.importOciLayout", r);
    expect(err.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(err.message).toMatch(/^driver podman: images\.importOciLayout: /);
  });

  it("says which skopeo could not start and how to give one", async () => {
    const missing = join(scratch, "no-skopeo");
    const err = await skopeoCopy("buildah", missing, "images.exportOciLayout", "a", "b").then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect([err?.code, err?.message, err?.hints]).toEqual([
      "CNBP_DRIVER_FAILED",
      `driver buildah: images.exportOciLayout: cannot run ${missing}`,
      [
        `OCI layouts move through skopeo: install it (Debian package \`skopeo\`) or set the driver's "skopeo" option`,
      ],
    ]);
  });

  it("gives skopeo a path without ':' through a symlink that is gone afterwards", async () => {
    const dir = join(scratch, "127.0.0.1:5000", "app");
    let given = "";
    await withColonFreePath(dir, async (path) => {
      given = path;
    });
    expect(given).not.toContain(":");
    expect(given).toMatch(/\/layout$/);
    await expect(rm(given)).rejects.toThrow(/ENOENT/);
    await withColonFreePath(scratch, async (path) => expect(path).toBe(scratch));
  });
});
