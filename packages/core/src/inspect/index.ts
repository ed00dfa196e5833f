/** Reading builders and buildpackages from their labels, for `cnbp builder inspect` and `cnbp buildpack inspect`. */
export { type BuilderInfo, builderInfo } from "./builder-info.js";
export { type BuildpackageInfo, buildpackageInfo } from "./buildpackage-info.js";
export { type DetectionEntry, type DetectionGroup, detectionOrder } from "./detection-order.js";
export { type ImageLocation, type InspectedImage, locateImage, readImageConfig } from "./image-source.js";
export type { ModuleSummary, TargetSummary } from "./modules.js";
