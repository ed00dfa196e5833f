/** OCI layouts move between a directory and containers-storage through `skopeo copy`. */
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DriverError } from "@cnbp/core";
import { execa } from "execa";
import { type BuildahResult, DRIVER_NAME } from "./buildah.js";

/** Runs `skopeo copy --quiet src dest`; a non-zero exit is for the caller to map, a missing skopeo throws. */
export async function skopeoCopy(
  skopeo: string,
  operation: string,
  src: string,
  dest: string,
): Promise<BuildahResult> {
  try {
    const r = await execa(skopeo, ["copy", "--quiet", src, dest], { reject: false, stdin: "ignore" });
    if (r.failed && r.exitCode === undefined) throw r.cause ?? r;
    return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    throw new DriverError("CNBP_DRIVER_FAILED", DRIVER_NAME, operation, `cannot run ${skopeo}`, {
      hints: [
        'OCI layouts move through skopeo: install it (Debian package `skopeo`) or set the driver\'s "skopeo" option',
      ],
      cause: err,
    });
  }
}

/**
 * skopeo's `oci:` transport ends the path at its first ':', and layout repositories have directories named
 * after registries (`127.0.0.1:5000`): such a path is given to skopeo through a symlink.
 */
export async function withColonFreePath<T>(dir: string, use: (path: string) => Promise<T>): Promise<T> {
  if (!dir.includes(":")) return use(dir);
  const tmp = await mkdtemp(join(tmpdir(), "cnbp-buildah-layout-"));
  try {
    await symlink(resolve(dir), join(tmp, "layout"));
    return await use(join(tmp, "layout"));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
