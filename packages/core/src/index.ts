export * from "./authoring/index.js";
export * from "./di.js";
export * from "./errors.js";
export * from "./image/index.js";
export * from "./inspect/index.js";
export * from "./logging.js";
export * from "./spec/index.js";
