/** Authoring: builder images and buildpackages from builder.toml / package.toml (distribution spec). */
export { type CreateBuilderRequest, createBuilder } from "./builder/create.js";
export { type AuthoringContext, type ImageReader, SourceError, type TargetPlatform } from "./context.js";
export { LayerCache } from "./layer-cache.js";
export { escapeId, type ModuleKind, moduleDir, moduleRoot, writeModuleLayer } from "./module-layer.js";
export { describeOutput, type Output, saveImageIndex } from "./output.js";
export { createPackage, type PackageRequest } from "./package/create.js";
export type { AuthoredImage, AuthoringOptions, WrittenLayer } from "./run.js";
export { storeImageReader } from "./sources/store.js";
