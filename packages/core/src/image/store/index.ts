/** Images as readers and writers see them, in a registry or in OCI layouts: find one, save one. */
export {
  type BlobOrigin,
  type BlobTransfer,
  type ImageToSave,
  type ImageWriter,
  type LayerToWrite,
  LayoutImageWriter,
  manifestOf,
  openLayerBlob,
  RegistryImageWriter,
  type SavedImage,
} from "./image-writer.js";
export { LayoutBackend, layoutPath, openLayoutImage } from "./layout-backend.js";
export { RegistryBackend, repositoryOf } from "./registry-backend.js";
export { type ImageBackend, labelsOf, layerForDiffId, type SourceImage } from "./source-image.js";
