/** @cnbp/driver-buildah: Buildah called directly through its CLI, daemonless, as a cnbp build driver. */
import { z } from "@cnbp/core";
import { BuildahDriver, type BuildahDriverOptions } from "./driver.js";

export { BuildahDriver, type BuildahDriverOptions } from "./driver.js";

/** What `[drivers.buildah]`, CNBP_DRIVER_OPTS and `--driver-opt` may set (`cnbp driver info buildah` prints it). */
export const optionsSchema = z.strictObject({
  bin: z
    .string()
    .min(1)
    .optional()
    .describe('the buildah executable: a path or a name on PATH (default "buildah")'),
  skopeo: z
    .string()
    .min(1)
    .optional()
    .describe('the skopeo executable, used for OCI layouts: a path or a name on PATH (default "skopeo")'),
  isolation: z
    .enum(["oci", "chroot", "rootless"])
    .optional()
    .describe(
      'how RUN steps are isolated (buildah --isolation): "chroot" where an OCI runtime cannot start, as inside a container (default buildah\'s own, "oci")',
    ),
});

export function createDriver(options: BuildahDriverOptions = {}): BuildahDriver {
  return new BuildahDriver(options);
}

const driver: BuildahDriver = new BuildahDriver();
export default driver;
