/** The user's config file and the driver a command runs on. */
export * from "./driver-options.js";
export * from "./file.js";
export * from "./keys.js";
export * from "./open-driver.js";
export * from "./path.js";
export * from "./schema.js";
