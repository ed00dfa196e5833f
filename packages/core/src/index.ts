// drivers build their optionsSchema with the zod cnbp validates options with
export { z } from "zod";
export * from "./authoring/index.js";
export * from "./build/index.js";
export * from "./cache/index.js";
export * from "./config/index.js";
export * from "./di.js";
export * from "./drivers/index.js";
export * from "./errors.js";
export * from "./extensions/index.js";
export * from "./image/index.js";
export * from "./inspect/app-image-source.js";
export * from "./inspect/index.js";
export * from "./logging.js";
export * from "./plugins/index.js";
export * from "./plugins/select.js";
export * from "./rebase/index.js";
export * from "./spec/index.js";
