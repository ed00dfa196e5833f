/** Files the platform and the lifecycle phases exchange (shared/spec/files.md 1, distribution.md 4). */
import type { AnyFileKind } from "../file-kind.js";
import { analyzedToml } from "./analyzed-toml.js";
import { groupToml } from "./group-toml.js";
import { lifecycleToml } from "./lifecycle-toml.js";
import { metadataToml } from "./metadata-toml.js";
import { orderToml } from "./order-toml.js";
import { planToml } from "./plan-toml.js";
import { projectMetadataToml } from "./project-metadata-toml.js";
import { reportToml } from "./report-toml.js";
import { runToml } from "./run-toml.js";
import { stackToml } from "./stack-toml.js";
import { systemToml } from "./system-toml.js";

export const platformKinds: readonly AnyFileKind[] = [
  orderToml,
  systemToml,
  runToml,
  stackToml,
  groupToml,
  planToml,
  analyzedToml,
  metadataToml,
  projectMetadataToml,
  reportToml,
  lifecycleToml,
];
