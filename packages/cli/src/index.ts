export { EXIT, type Io, type Outcome } from "./io.js";
export { run } from "./run.js";
