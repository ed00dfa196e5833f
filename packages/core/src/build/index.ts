export type { AppFilter } from "./app-source.js";
export { type BuildOutput, type BuildReport, type BuildRequest, build } from "./build.js";
export type { BuildpackSpec, InlineScript } from "./buildpack-refs.js";
export type { BuildpackChoice } from "./extra-buildpacks.js";
export type { PhaseTiming } from "./phase-clock.js";
export { PLATFORM_APIS } from "./platform-api.js";
export { type ProjectSettings, readProject } from "./project.js";
export { registryAuthEnv } from "./registry-auth.js";
