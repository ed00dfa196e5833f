export * from "./discovery.js";
export * from "./files.js";
export * from "./install.js";
export * from "./loader.js";
export * from "./manifest.js";
export * from "./sources.js";
