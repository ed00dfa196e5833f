/**
 * OCI layouts moved to and from containers-storage with `skopeo copy`, for the drivers on Podman's and
 * Buildah's store. node:child_process rather than execa: this module loads with core's drivers entry, on
 * every build's start.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type CommandResult, commandFailed, DriverError } from "./errors.js";

/** Runs `skopeo copy --quiet src dest`; a non-zero exit is for the caller to map, a skopeo that cannot start throws. */
export function skopeoCopy(
  driver: string,
  skopeo: string,
  operation: string,
  src: string,
  dest: string,
): Promise<CommandResult> {
  return new Promise((done, fail) => {
    const child = execFile(skopeo, ["copy", "--quiet", src, dest], (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (err && typeof code !== "number")
        fail(
          new DriverError("CNBP_DRIVER_FAILED", driver, operation, `cannot run ${skopeo}`, {
            hints: [
              `OCI layouts move through skopeo: install it (Debian package \`skopeo\`) or set the driver's "skopeo" option`,
            ],
            cause: err,
          }),
        );
      else done({ exitCode: typeof code === "number" ? code : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** A failed copy out of a layout: CNBP_IMAGE_NOT_FOUND when the layout lacks the image or is none. */
export function layoutCopyFailed(driver: string, operation: string, r: CommandResult): DriverError {
  const absent = /no descriptor found|not found|no such file|more than one image|does not exist/i.test(
    r.stderr,
  );
  return commandFailed(driver, operation, r, absent ? "CNBP_IMAGE_NOT_FOUND" : "CNBP_DRIVER_FAILED");
}

/**
 * skopeo's `oci:` transport ends the path at its first ':', and layout repositories have directories named
 * after registries (`127.0.0.1:5000`): such a path is given to skopeo through a symlink.
 */
export async function withColonFreePath<T>(dir: string, use: (path: string) => Promise<T>): Promise<T> {
  if (!dir.includes(":")) return use(dir);
  const tmp = await mkdtemp(join(tmpdir(), "cnbp-layout-"));
  try {
    await symlink(resolve(dir), join(tmp, "layout"));
    return await use(join(tmp, "layout"));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Copies image `image` of the layout at `dir` (its only one when absent) into containers-storage as `tag`. */
export async function importLayoutWithSkopeo(
  driver: string,
  skopeo: string,
  dir: string,
  opts: { readonly tag: string; readonly image?: string },
): Promise<void> {
  const operation = "images.importOciLayout";
  const r = await withColonFreePath(dir, (path) => {
    const src = `oci:${path}${opts.image ? `:${opts.image}` : ""}`;
    return skopeoCopy(driver, skopeo, operation, src, `containers-storage:${opts.tag}`);
  });
  if (r.exitCode !== 0) throw layoutCopyFailed(driver, operation, r);
}

/**
 * Copies the stored image `id` into the layout at `dir` (made when missing) under `name`; skopeo's result is
 * the caller's to read, as each store names an absent image its own way.
 */
export async function exportLayoutWithSkopeo(
  driver: string,
  skopeo: string,
  id: string,
  dir: string,
  name: string,
): Promise<CommandResult> {
  await mkdir(dir, { recursive: true });
  const src = `containers-storage:@${id.replace(/^sha256:/, "")}`;
  return withColonFreePath(dir, (path) =>
    skopeoCopy(driver, skopeo, "images.exportOciLayout", src, `oci:${path}:${name}`),
  );
}
