/** Images authoring reads: from a registry (`docker://`), or a buildpackage file (an OCI layout tar). */
import { extractOciArchive, openLayoutImage, RegistryBackend, type SourceImage } from "../../image/index.js";
import { type AuthoringContext, SourceError } from "../context.js";

export async function openRegistryImage(ref: string, ctx: AuthoringContext): Promise<SourceImage> {
  let image: SourceImage | undefined;
  try {
    image = await new RegistryBackend(ctx.registry, ctx.platform).find(ref);
  } catch (err) {
    throw new SourceError(`cannot read image ${ref}: ${(err as Error).message}`);
  }
  if (!image) {
    const { os, architecture } = ctx.platform;
    throw new SourceError(`image ${ref} was not found (for ${os}/${architecture})`);
  }
  return image;
}

export async function openPackageFile(path: string, ctx: AuthoringContext): Promise<SourceImage> {
  const dir = ctx.scratch.path("package");
  try {
    await extractOciArchive(path, dir);
  } catch (err) {
    throw new SourceError(`cannot read buildpackage ${path}: ${(err as Error).message}`);
  }
  const image = await openLayoutImage(dir, path);
  if (!image) throw new SourceError(`buildpackage ${path} holds no image`);
  return image;
}
