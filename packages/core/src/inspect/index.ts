/** Reading builders and buildpackages from their labels, for `cnbp builder inspect` and `cnbp buildpack inspect`. */
export { type BuilderInfo, builderInfo } from "./builder-info.js";
export { type BuildpackageInfo, buildpackageInfo } from "./buildpackage-info.js";
export { type DetectionEntry, type DetectionGroup, detectionOrder } from "./detection-order.js";
export type { IndexSummary, PlatformChoice } from "./image-index.js";
export {
  asInspected,
  type ImageLocation,
  type InspectedImage,
  locateImage,
  type ReadImageOptions,
  readImageConfig,
  type StoreAccess,
} from "./image-source.js";
export type { ModuleSummary, TargetSummary } from "./modules.js";
export { hostPlatform, parsePlatform } from "./platform.js";
