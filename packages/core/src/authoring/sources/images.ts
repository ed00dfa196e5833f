/**
 * Images authoring reads: by reference (`docker://`, the build image) from where the context reads them (a
 * registry, or a driver's store), or a buildpackage file (an OCI layout tar).
 */
import { extractOciArchive, openLayoutImage, type SourceImage } from "../../image/index.js";
import { type AuthoringContext, SourceError } from "../context.js";

export async function openImage(
  ref: string,
  ctx: AuthoringContext,
  platform = ctx.platform,
): Promise<SourceImage> {
  let image: SourceImage | undefined;
  try {
    image = await ctx.images(ref, platform);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`cannot read image ${ref}: ${(err as Error).message}`);
  }
  if (!image) {
    const { os, architecture } = platform;
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
