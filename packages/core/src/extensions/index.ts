/** Image extensions on the platform side: their Dockerfiles read, checked and prepared for a BuildDriver. */
export * from "./build-args.js";
export * from "./dockerfile.js";
export * from "./generated.js";
export * from "./rules.js";
export * from "./sparse-run-cache.js";
export * from "./sparse-run-image.js";
