/**
 * Where an authored image goes: a registry (`--publish`), an OCI layout directory (`--output oci:<dir>`),
 * or an OCI layout tar (a buildpackage `.cnb` file). Blobs go before the manifest, so a failure leaves no
 * name pointing at half an image.
 */
import { rename, rm } from "node:fs/promises";
import {
  type ImageToSave,
  LayoutImageWriter,
  type RegistryClient,
  RegistryImageWriter,
  type SavedImage,
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
