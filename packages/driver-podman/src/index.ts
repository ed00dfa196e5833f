/** @cnbp/driver-podman: Podman called directly through its CLI, as a cnbp runtime and build driver. */
import { PodmanDriver, type PodmanDriverOptions } from "./driver.js";

export { PodmanDriver, type PodmanDriverOptions } from "./driver.js";
export { BUILD_LABEL } from "./names.js";

export function createDriver(options: PodmanDriverOptions = {}): PodmanDriver {
  return new PodmanDriver(options);
}

const driver: PodmanDriver = new PodmanDriver();
export default driver;
