/** @cnbp/driver-podman: Podman called directly through its CLI, as a cnbp runtime and build driver. */
import { z } from "@cnbp/core/zod";
import { PodmanDriver, type PodmanDriverOptions } from "./driver.js";

export { BUILD_LABEL } from "@cnbp/core/drivers";
export { PodmanDriver, type PodmanDriverOptions } from "./driver.js";

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
  network: z
    .enum(["slirp4netns", "podman-default"])
    .optional()
    .describe(
      'the network of build steps given no --network: "slirp4netns" (outbound only, as in rootless Podman; the default when it is installed) or "podman-default" (the network podman run gives, the bridge when rootful)',
    ),
});

export function createDriver(options: PodmanDriverOptions = {}): PodmanDriver {
  return new PodmanDriver(options);
}

const driver: PodmanDriver = new PodmanDriver();
export default driver;
