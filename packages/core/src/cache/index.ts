export { type BuildCache, type LayoutRepo, listCaches } from "./caches.js";
export { parseDuration } from "./duration.js";
export { APP_LABEL, CACHE_LABEL, IMAGE_LABEL } from "./labels.js";
export { type PruneReport, type PruneRequest, type PruneSelection, pruneCaches } from "./prune.js";
