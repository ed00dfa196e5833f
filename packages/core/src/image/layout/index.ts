export { ARCHIVE_MTIME, extractOciArchive, OciArchive, writeOciArchive } from "./archive.js";
export {
  type BlobSource,
  copyLayout,
  type GcResult,
  type ImageToWrite,
  OciLayout,
  type WriteBlobOptions,
} from "./layout.js";
export {
  BlobCorruptError,
  BlobNotFoundError,
  blobPath,
  CONTAINERD_NAME_ANNOTATION,
  DEFAULT_PLATFORM,
  IMAGE_LAYOUT_VERSION,
  INDEX_FILE,
  type LayoutEntry,
  type LayoutImage,
  OCI_LAYOUT_FILE,
  OciLayoutReader,
  type PlatformWanted,
  REF_NAME_ANNOTATION,
  refNameOf,
} from "./reader.js";
