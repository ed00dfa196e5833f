export * from "./contract.js";
export * from "./errors.js";
export { withCheckedPutTar } from "./put-tar.js";
export { driverShapeProblems } from "./shape.js";
