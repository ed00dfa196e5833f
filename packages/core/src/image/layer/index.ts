/** Layer tars: the reproducible streaming writer, the streaming reader and safe extraction. */
export {
  CNB_EPOCH,
  LAYER_EXTRACT,
  LAYER_INVALID,
  LAYER_READ,
  LAYER_UNSAFE,
  LAYER_WRITE,
  layerMtime,
  type Owner,
} from "./common.js";
export { type ExtractOptions, type ExtractResult, extractLayer } from "./extract.js";
export {
  type Compression,
  normalisePath,
  type ReadLayerOptions,
  readLayer,
  type TarEntry,
  type TarEntryType,
} from "./reader.js";
export {
  type DirectoryEntry,
  type DirPart,
  type FileEntry,
  type FilesPart,
  type LayerPart,
  type LayerResult,
  type LayerWriteOptions,
  type Modes,
  type Parents,
  type SymlinkEntry,
  writeDirLayer,
  writeFilesLayer,
  writeLayer,
} from "./writer.js";
