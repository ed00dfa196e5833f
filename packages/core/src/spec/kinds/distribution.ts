import type { AnyFileKind } from "../file-kind.js";

export const distributionKinds: readonly AnyFileKind[] = [];
