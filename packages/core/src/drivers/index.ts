export * from "./contract.js";
export * from "./errors.js";
export { driverShapeProblems } from "./shape.js";
