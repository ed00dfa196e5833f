/** @cnbp/driver-podman: Podman called directly through its CLI, as a cnbp runtime and build driver. */
import { z } from "@cnbp/core/zod";
import { PodmanDriver, type PodmanDriverOptions } from "./driver.js";

export { PodmanDriver, type PodmanDriverOptions } from "./driver.js";
export { BUILD_LABEL } from "./names.js";

/** What `[drivers.podman]`, CNBP_DRIVER_OPTS and `--driver-opt` may set (`cnbp driver info podman` prints it). */
export const optionsSchema = z.strictObject({
  bin: z
    .string()
    .min(1)
    .optional()
    .describe('the podman executable: a path or a name on PATH (default "podman")'),
  skopeo: z
    .string()
    .min(1)
    .optional()
    .describe('the skopeo executable, used for OCI layouts: a path or a name on PATH (default "skopeo")'),
});

export function createDriver(options: PodmanDriverOptions = {}): PodmanDriver {
  return new PodmanDriver(options);
}

const driver: PodmanDriver = new PodmanDriver();
export default driver;
