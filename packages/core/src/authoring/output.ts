/**
 * Where an authored image goes: a registry (`--publish`), an OCI layout directory (`--output oci:<dir>`),
 * or an OCI layout tar (a buildpackage `.cnb` file); images of several platforms under one name as an OCI
 * image index. Blobs go before the manifest, and manifests before the index, so a failure leaves no name
 * pointing at half an image.
 */
import { rename, rm } from "node:fs/promises";
import {
  type ImageToSave,
  jsonBytes,
  LayoutImageWriter,
  MediaType,
  manifestOf,
  OciLayout,
  parseReference,
  type RegistryClient,
  RegistryImageWriter,
  referenceName,
  type SavedImage,
  sha256Digest,
  writeOciArchive,
} from "../image/index.js";
import type { Scratch } from "./scratch.js";

export type Output =
  | { readonly kind: "registry"; readonly name: string }
  | { readonly kind: "layout"; readonly dir: string; readonly name: string }
  | { readonly kind: "archive"; readonly file: string; readonly name: string };

export function describeOutput(output: Output): string {
  if (output.kind === "registry") return output.name;
  return output.kind === "layout" ? `oci:${output.dir}` : output.file;
}

export async function saveImage(
  image: ImageToSave,
  output: Output,
  registry: RegistryClient,
  scratch: Scratch,
): Promise<SavedImage> {
  switch (output.kind) {
    case "registry":
      return new RegistryImageWriter(registry).save(image, [output.name]);
    case "layout":
      return new LayoutImageWriter(output.dir, (dir) => dir).save(image, [output.name]);
    case "archive": {
      const dir = scratch.path("layout");
      // the image in a buildpackage file has no ref name, as pack writes it: readers take the only one
      const saved = await new LayoutImageWriter(
        dir,
        (d) => d,
        () => undefined,
      ).save(image, [output.name]);
      // written beside the target and renamed, so the file is whole or absent
      const tmp = `${output.file}.${process.pid}.tmp`;
      try {
        await writeOciArchive(dir, tmp);
        await rename(tmp, output.file);
      } finally {
        await rm(tmp, { force: true });
      }
      return saved;
    }
  }
}

/** Images of one name, one per platform, saved as an OCI image index (a multi-target builder). */
export async function saveImageIndex(
  images: readonly ImageToSave[],
  output: Output,
  registry: RegistryClient,
): Promise<{ digest: string; saved: SavedImage[] }> {
  const saved: SavedImage[] = [];
  switch (output.kind) {
    case "registry": {
      // each platform's manifest by its digest, then the index under the name
      const repository = referenceName(parseReference(output.name));
      for (const image of images) {
        const digest = sha256Digest(manifestOf(image).bytes);
        saved.push(await new RegistryImageWriter(registry).save(image, [`${repository}@${digest}`]));
      }
      const index = jsonBytes(indexOf(images, saved));
      return { digest: await registry.putManifest(output.name, index, MediaType.ociIndex), saved };
    }
    case "layout": {
      // the manifests as unnamed entries, then the index named as a single image would be, then only it
      const writer = new LayoutImageWriter(
        output.dir,
        (dir) => dir,
        () => undefined,
      );
      for (const image of images) saved.push(await writer.save(image, [output.name]));
      const layout = await OciLayout.open(output.dir);
      const descriptor = await layout.writeJson(indexOf(images, saved), MediaType.ociIndex);
      await layout.addEntry(descriptor, parseReference(output.name).tag ?? "latest");
      for (const s of saved) await layout.removeEntry(s.digest);
      return { digest: descriptor.digest, saved };
    }
    case "archive":
      throw new Error(`${output.file}: a buildpackage file holds one image, not an index`);
  }
}

function indexOf(images: readonly ImageToSave[], saved: readonly SavedImage[]) {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map(({ config: { os, architecture, variant } }, i) => ({
      mediaType: MediaType.ociManifest,
      digest: (saved[i] as SavedImage).digest,
      size: (saved[i] as SavedImage).manifestSize,
      platform: { architecture, os, ...(variant ? { variant } : {}) },
    })),
  };
}
