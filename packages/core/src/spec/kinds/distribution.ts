/** Files pack-compatible tools read to make builders and buildpackages, and the project descriptor. */
import type { AnyFileKind } from "../file-kind.js";
import { builderToml } from "./builder-toml.js";
import { packageToml } from "./package-toml.js";
import { projectToml } from "./project-toml.js";

export const distributionKinds: readonly AnyFileKind[] = [builderToml, packageToml, projectToml];
