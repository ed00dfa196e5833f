/** Extensions' generate step, run by the detector when the chosen group has extensions. */
export { type GenerateInput, type GenerateResult, generate } from "./generate.js";
export type { BuildUser } from "./layout.js";
