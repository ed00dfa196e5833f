/** Rebasing app images (shared/spec/platform.md section 9): the rules, the manifest surgery, writing the result. */
export {
  type ImageParts,
  REBASE_CREATED,
  type RebasedImage,
  type RebaseImageInput,
  rebasedLabel,
  rebaseImage,
} from "./image.js";
export { type RebaseAppReport, type RebaseAppRequest, rebaseApp } from "./rebase-app.js";
export {
  checkRebase,
  LABEL as REBASE_LABELS,
  type RebaseCheck,
  type RebaseDecision,
  RebaseRefused,
} from "./rules.js";
export {
  type LayerSources,
  type LayerTransfer,
  type LayoutSources,
  pushRebased,
  type WrittenImage,
  writeRebasedLayout,
} from "./write.js";
