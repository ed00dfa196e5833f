/** @cnbp/driver-testkit: contract suites that prove a cnbp driver does what the contracts' doc comments say. */
export { type BuildContractOptions, buildDriverContract } from "./build.js";
export type { ImageStoreOptions } from "./images.js";
export { imageStoreContract, type RuntimeContractOptions, runtimeDriverContract } from "./runtime.js";
export {
  CONTRACT_LABEL,
  type Collected,
  collect,
  DEFAULT_TEST_IMAGE,
  type LeakLister,
  type LeakProbe,
} from "./support.js";
export { oneFileTar, type TarFile, tarOf } from "./tar.js";
