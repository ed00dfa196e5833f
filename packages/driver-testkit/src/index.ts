/** @cnbp/driver-testkit: contract suites that prove a cnbp driver does what the contracts' doc comments say. */
export {
  CONTRACT_LABEL,
  DEFAULT_TEST_IMAGE,
  type RuntimeContractOptions,
  runtimeDriverContract,
} from "./runtime.js";
export { oneFileTar } from "./tar.js";
