/** Every CNB file kind cnbp knows, for `cnbp validate` and for lookup by name. */
import type { AnyFileKind } from "../file-kind.js";
import { buildpackSideKinds } from "./buildpack-side.js";
import { distributionKinds } from "./distribution.js";
import { labelKinds } from "./labels.js";
import { platformKinds } from "./platform-files.js";

export const ALL_KINDS: readonly AnyFileKind[] = [
  ...buildpackSideKinds,
  ...platformKinds,
  ...distributionKinds,
  ...labelKinds,
];

export function kindByName(name: string): AnyFileKind | undefined {
  return ALL_KINDS.find((k) => k.name === name);
}

export function kindForFileName(fileName: string): AnyFileKind | undefined {
  return ALL_KINDS.find((k) => k.fileNames.includes(fileName));
}
