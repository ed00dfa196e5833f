import type { AnyFileKind } from "../file-kind.js";

export const labelKinds: readonly AnyFileKind[] = [];
