/** Reading builders and buildpackages from their labels, for `cnbp builder inspect` and `cnbp buildpack inspect`. */
export { type BuilderInfo, builderInfo } from "./builder-info.js";
export { type BuildpackageInfo, buildpackageInfo } from "./buildpackage-info.js";
export { type DetectionEntry, type DetectionGroup, detectionOrder } from "./detection-order.js";
export {
  asInspected,
  type ImageLocation,
  type InspectedImage,
  locateImage,
  readImageConfig,
  type StoreAccess,
} from "./image-source.js";
export type { ModuleSummary, TargetSummary } from "./modules.js";
