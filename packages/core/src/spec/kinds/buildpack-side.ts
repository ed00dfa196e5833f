/** Files buildpacks and image extensions read or write (shared/spec/files.md 2). */
import type { AnyFileKind } from "../file-kind.js";
import { buildPlan } from "./build-plan.js";
import { buildToml } from "./build-toml.js";
import { buildpackPlan } from "./buildpack-plan.js";
import { buildpackToml } from "./buildpack-toml.js";
import { execDOutput } from "./exec-d-output.js";
import { extendConfigToml } from "./extend-config-toml.js";
import { extensionToml } from "./extension-toml.js";
import { launchToml } from "./launch-toml.js";
import { layerToml } from "./layer-toml.js";
import { storeToml } from "./store-toml.js";

export const buildpackSideKinds: readonly AnyFileKind[] = [
  buildpackToml,
  extensionToml,
  buildPlan,
  buildpackPlan,
  layerToml,
  launchToml,
  buildToml,
  storeToml,
  execDOutput,
  extendConfigToml,
];
