import type { AnyFileKind } from "../file-kind.js";

import { buildpackToml } from "./buildpack-toml.js";

export const buildpackSideKinds: readonly AnyFileKind[] = [buildpackToml];
