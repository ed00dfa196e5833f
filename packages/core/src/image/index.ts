export * from "./layer/index.js";
export * from "./layout/index.js";
export * from "./oci.js";
export * from "./reference.js";
export * from "./registry/index.js";
export * from "./run-image.js";
export * from "./store/index.js";
