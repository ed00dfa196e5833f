export * from "./api-version.js";
export * from "./file-kind.js";
export { ALL_KINDS, kindByName, kindForFileName } from "./kinds/index.js";
export * from "./toml.js";
export * from "./validate-paths.js";
