/**
 * The lifecycle a builder gets at `/cnb/lifecycle` (distribution.md 4): a directory holding lifecycle.toml
 * (or a release's `lifecycle/` dir), an archive of one (local or `https://`), or a lifecycle image
 * (`docker://`), whose layer holding `/cnb/lifecycle` is reused as it is when it holds nothing else.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  extractLayer,
  type LayerToWrite,
  ociLayerType,
  readLayer,
  type SourceImage,
  writeLayer,
} from "../../image/index.js";
import { type LifecycleDescriptor, lifecycleToml, parseSpecOrThrow, readSpecFile } from "../../spec/index.js";
import { type AuthoringContext, SourceError } from "../context.js";
import { openImage } from "./images.js";
import { locate } from "./locate.js";

export const LIFECYCLE_DIR = "/cnb/lifecycle";

export interface ResolvedLifecycle {
  readonly descriptor: LifecycleDescriptor;
  readonly layer: LayerToWrite;
  readonly from: string;
}

export async function resolveLifecycle(
  uri: string,
  baseDir: string,
  ctx: AuthoringContext,
): Promise<ResolvedLifecycle> {
  const located = await locate(uri, baseDir, ctx.scratch);
  switch (located.kind) {
    case "dir":
      return lifecycleFromDir(located.path, uri, ctx, true);
    case "archive": {
      const dir = ctx.scratch.path("lifecycle");
      await extractLayer(located.path, dir, { label: uri, ownership: "none" });
      return lifecycleFromDir(dir, uri, ctx, false);
    }
    case "image":
      return lifecycleFromImage(await openImage(located.ref, ctx), uri, ctx);
    case "package-file":
      throw new SourceError(`${JSON.stringify(uri)} is a buildpackage, not a lifecycle`);
  }
}

/** A lifecycle tree: `dir` itself, or its `lifecycle/` child as release archives have it. */
export async function lifecycleFromDir(
  dir: string,
  from: string,
  ctx: AuthoringContext,
  cacheable: boolean,
): Promise<ResolvedLifecycle> {
  const root = (await exists(join(dir, "lifecycle.toml"))) ? dir : join(dir, "lifecycle");
  if (!(await exists(join(root, "lifecycle.toml")))) {
    throw new SourceError(`${JSON.stringify(from)} has no lifecycle.toml (nor lifecycle/lifecycle.toml)`);
  }
  const descriptor = await readSpecFile(lifecycleToml, join(root, "lifecycle.toml"));
  const scratch = ctx.scratch.path("lifecycle.tgz");
  const write = (to: string) =>
    writeLayer(
      [
        {
          kind: "dir",
          hostDir: root,
          containerPath: LIFECYCLE_DIR,
          owner: { uid: 0, gid: 0 },
          parents: "none",
        },
      ],
      to,
      { label: "lifecycle" },
    );
  const { path, result } = cacheable
    ? await ctx.cache.dirLayer(root, "lifecycle 1", scratch, write)
    : { path: scratch, result: await write(scratch) };
  return {
    descriptor,
    layer: {
      descriptor: { mediaType: result.mediaType, digest: result.digest, size: result.size },
      diffId: result.diffId,
      origin: { kind: "file", path },
    },
    from,
  };
}

/** The top-most layer with `/cnb/lifecycle/lifecycle.toml`: reused when it holds only the lifecycle. */
async function lifecycleFromImage(
  image: SourceImage,
  from: string,
  ctx: AuthoringContext,
): Promise<ResolvedLifecycle> {
  const { manifest, config } = image;
  for (let i = manifest.layers.length - 1; i >= 0; i--) {
    const diffId = config.rootfs.diff_ids[i] as string;
    const found = await scanLayer(image, diffId);
    if (!found.toml) continue;
    const descriptor = parseSpecOrThrow(lifecycleToml, found.toml, `${from} ${LIFECYCLE_DIR}/lifecycle.toml`);
    if (found.onlyLifecycle) {
      const layer = manifest.layers[i] as LayerToWrite["descriptor"];
      return {
        descriptor,
        layer: {
          descriptor: { ...layer, mediaType: ociLayerType(layer.mediaType) },
          diffId,
          origin: { kind: "image", image },
        },
        from,
      };
    }
    // the layer holds more than the lifecycle: take /cnb/lifecycle out of it into a layer of its own
    const dir = ctx.scratch.path("lifecycle");
    await extractLayer(await openLayer(image, diffId), dir, {
      label: from,
      strip: LIFECYCLE_DIR,
      ownership: "none",
    });
    return lifecycleFromDir(dir, from, ctx, false);
  }
  throw new SourceError(
    `${from}: no layer of ${image.name} holds ${LIFECYCLE_DIR}/lifecycle.toml: it is not a lifecycle image`,
  );
}

async function scanLayer(
  image: SourceImage,
  diffId: string,
): Promise<{ toml?: string; onlyLifecycle: boolean }> {
  let toml: string | undefined;
  let onlyLifecycle = true;
  for await (const entry of readLayer(await openLayer(image, diffId), { label: diffId })) {
    if (entry.path === `${LIFECYCLE_DIR}/lifecycle.toml`) toml = (await entry.bytes()).toString("utf8");
    else if (!["/cnb", LIFECYCLE_DIR].includes(entry.path) && !entry.path.startsWith(`${LIFECYCLE_DIR}/`))
      onlyLifecycle = false;
  }
  return { toml, onlyLifecycle };
}

async function openLayer(image: SourceImage, diffId: string) {
  const stream = await image.openLayer(diffId);
  if (!stream) throw new SourceError(`${image.name}: layer ${diffId} cannot be read`);
  return stream;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
