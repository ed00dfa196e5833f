import type { AnyFileKind } from "../file-kind.js";

export const platformKinds: readonly AnyFileKind[] = [];
