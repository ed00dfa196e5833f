export { type AuthFile, containersAuthFile } from "./containers-auth.js";
export * from "./contract.js";
export { demux } from "./demux.js";
export * from "./errors.js";
export { BUILD_LABEL, safeObjectName, uniqueName } from "./names.js";
export { pullFailureCode } from "./pull-failure.js";
export { withCheckedPutTar } from "./put-tar.js";
export { driverShapeProblems } from "./shape.js";
export { volumePath } from "./volume-path.js";
