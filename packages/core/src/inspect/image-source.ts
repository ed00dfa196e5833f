/**
 * Finding the image an inspect command names, and reading its config (labels, platform) without pulling
 * layers: `<registry>/<repo>[:tag|@digest]` in a registry, `oci:<dir>[:<name>]` in an OCI layout directory,
 * or the path of an oci-archive file (a `.cnb` buildpackage). A bare name (`my/builder`, `localhost/x`)
 * lives in a container engine's store, which needs a driver: refused with what to write instead.
 */
import { stat } from "node:fs/promises";
import type { ImageStore, StoredImage } from "../drivers/contract.js";
import { CnbpError, UsageError } from "../errors.js";
import { OciArchive } from "../image/layout/archive.js";
import { OciLayout } from "../image/layout/layout.js";
import type { OciLayoutReader } from "../image/layout/reader.js";
import { type Digest, ImageConfig, INDEX_TYPES, Index, Manifest } from "../image/oci.js";
import { type ImageReference, InvalidReferenceError, parseReference } from "../image/reference.js";
import { RegistryClient } from "../image/registry/client.js";
import { RegistryError } from "../image/registry/errors.js";
import {
  choosePlatform,
  defaultChoice,
  imageTarget,
  type ManifestSource,
  type PlatformChoice,
  readIndexed,
} from "./image-index.js";
import type { TargetSummary } from "./modules.js";

/** An image's config, read from wherever the user pointed. */
export interface InspectedImage {
  /** The image as the user named it, for messages and output. */
  readonly name: string;
  readonly config: ImageConfig;
  /** When the name points to an image index: every image's target in it, the config being of one of them. */
  readonly index?: readonly TargetSummary[];
}

export type ImageLocation =
  | { readonly kind: "registry"; readonly reference: ImageReference }
  | { readonly kind: "store"; readonly name: string }
  | { readonly kind: "layout"; readonly dir: string; readonly selector?: string }
  | { readonly kind: "archive"; readonly file: string };

const OCI_PREFIX = "oci:";

/** Where `name` points: a layout (`oci:`), an existing file (an archive), else a registry reference. */
export async function locateImage(name: string): Promise<ImageLocation> {
  if (name.startsWith(OCI_PREFIX)) return layoutLocation(name.slice(OCI_PREFIX.length));
  if ((await kindOfPath(name)) === "file") return { kind: "archive", file: name };
  if (name.endsWith(".cnb")) throw new CnbpError("CNBP_FILE_NOT_FOUND", `${name}: no such file`);
  if (!hasRegistry(name)) return { kind: "store", name };
  try {
    return { kind: "registry", reference: parseReference(name) };
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new UsageError(err.message);
    throw err;
  }
}

/** A runtime driver's image store, opened only when an image is to be read from it. */
export interface StoreAccess {
  readonly images: ImageStore;
  /** The driver's name, for messages. */
  readonly driver: string;
  close(): Promise<void>;
}

export interface ReadImageOptions {
  readonly registry?: RegistryClient;
  /** Opens the runtime driver's image store, for a name without a registry host. */
  readonly openStore?: () => Promise<StoreAccess>;
  /** Which image of an index to read (default: the host's platform, else the first). */
  readonly platform?: PlatformChoice;
}

/**
 * Reads the config of the image `name` points to; of an image index, the config of the platform chosen and
 * every image's target. A name without a registry host is read from the runtime driver's image store.
 */
export async function readImageConfig(name: string, opts: ReadImageOptions = {}): Promise<InspectedImage> {
  const location = await locateImage(name);
  const choice = opts.platform ?? defaultChoice();
  if (location.kind === "store") {
    if (!opts.openStore) throw engineStoreNeeded(name);
    return readFromStore(await opts.openStore(), name, choice);
  }
  const source =
    location.kind === "registry"
      ? registrySource(opts.registry ?? new RegistryClient(), name)
      : location.kind === "layout"
        ? layoutSource(await OciLayout.open(location.dir), location.selector)
        : layoutSource(await OciArchive.open(location.file));
  return { name, ...(await readIndexed(source, name, choice)) };
}

/** A store holds one image per name: its own config, checked against the platform asked for. */
async function readFromStore(
  store: StoreAccess,
  name: string,
  choice: PlatformChoice,
): Promise<InspectedImage> {
  try {
    const stored = await store.images.inspect(name);
    if (!stored)
      throw new CnbpError("CNBP_IMAGE_NOT_FOUND", `${name}: no such image in ${store.driver}'s image store`, {
        hints: storeHints(name),
      });
    const image = asInspected(name, stored);
    choosePlatform([imageTarget(image.config)], name, choice);
    return image;
  } finally {
    await store.close();
  }
}

/** A stored image in the shape the label readers take. */
export function asInspected(name: string, stored: StoredImage): InspectedImage {
  return {
    name,
    config: {
      os: stored.os,
      architecture: stored.arch,
      ...(stored.variant ? { variant: stored.variant } : {}),
      config: {
        Labels: { ...stored.labels },
        Env: [...stored.env],
        ...(stored.user ? { User: stored.user } : {}),
      },
      rootfs: { type: "layers", diff_ids: stored.diffIds as Digest[] },
    },
  };
}

function layoutSource(layout: OciLayoutReader, selector?: string): ManifestSource {
  return {
    async top() {
      const entry = await layout.findEntry(selector);
      return INDEX_TYPES.includes(entry.mediaType)
        ? { index: await layout.readImageIndex(entry) }
        : { manifest: await layout.readManifest(entry) };
    },
    manifest: (descriptor) => layout.readManifest(descriptor),
    config: (manifest) => layout.readConfig(manifest.config),
  };
}

function registrySource(client: RegistryClient, name: string): ManifestSource {
  const ref = parseReference(name);
  const parse = <T>(schema: { parse(data: unknown): T }, bytes: Buffer) =>
    schema.parse(JSON.parse(bytes.toString("utf8")));
  return {
    async top() {
      let fetched: Awaited<ReturnType<RegistryClient["getManifest"]>>;
      try {
        fetched = await client.getManifest(ref);
      } catch (err) {
        if (err instanceof RegistryError && err.code === "CNBP_REGISTRY_IMAGE_NOT_FOUND") {
          throw new CnbpError("CNBP_IMAGE_NOT_FOUND", `${name}: no such image in the registry`);
        }
        throw err;
      }
      return INDEX_TYPES.includes(fetched.mediaType)
        ? { index: parse(Index, fetched.bytes) }
        : { manifest: parse(Manifest, fetched.bytes) };
    },
    async manifest(descriptor) {
      const fetched = await client.getManifest({ ...ref, tag: undefined, digest: descriptor.digest });
      return parse(Manifest, fetched.bytes);
    },
    async config(manifest) {
      return parse(ImageConfig, await client.getBlob(ref, manifest.config));
    },
  };
}

/** `oci:<dir>` or `oci:<dir>:<name>`: the whole text when it is a directory, else split at the last ':'. */
async function layoutLocation(rest: string): Promise<ImageLocation> {
  const colon = rest.lastIndexOf(":");
  if (colon > 0 && (await kindOfPath(rest)) !== "dir") {
    return { kind: "layout", dir: rest.slice(0, colon), selector: rest.slice(colon + 1) };
  }
  return { kind: "layout", dir: rest };
}

async function kindOfPath(path: string): Promise<"file" | "dir" | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? "file" : s.isDirectory() ? "dir" : undefined;
  } catch {
    return undefined;
  }
}

/** Like Docker: the first component names a registry when it has a '.' or a ':' ("localhost" alone is Podman's local store). */
function hasRegistry(name: string): boolean {
  const slash = name.indexOf("/");
  if (slash < 0) return false;
  const first = name.slice(0, slash);
  return first.includes(".") || first.includes(":");
}

function storeHints(name: string): string[] {
  const hub = name.startsWith("localhost/") ? [] : [`for Docker Hub, write docker.io/${name}`];
  return [
    ...hub,
    "for a registry, give its host: 127.0.0.1:5000/<repository>[:<tag>]",
    "for an OCI layout directory, write oci:<dir>; for a .cnb or oci-archive file, give its path",
  ];
}

function engineStoreNeeded(name: string): UsageError {
  return new UsageError(
    `"${name}" names an image in a container engine's store, which this command does not read`,
    {
      hints: storeHints(name),
    },
  );
}
