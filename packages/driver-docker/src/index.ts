/** @cnbp/driver-docker: Docker Engine through its API (dockerode), as a cnbp runtime and build driver. */
import { DockerDriver } from "./driver.js";
import type { DockerDriverOptions } from "./options.js";

export { BUILD_LABEL } from "@cnbp/core/drivers";
export { DEFAULT_HOST, type Endpoint, resolveEndpoint } from "./connection.js";
export { DockerDriver } from "./driver.js";
export { type DockerDriverOptions, optionsSchema } from "./options.js";

export function createDriver(options: DockerDriverOptions = {}): DockerDriver {
  return new DockerDriver(options);
}

const driver: DockerDriver = new DockerDriver();
export default driver;
