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
import { DEFAULT_PLATFORM, type OciLayoutReader } from "../image/layout/reader.js";
import type { Digest, ImageConfig } from "../image/oci.js";
import { type ImageReference, InvalidReferenceError, parseReference } from "../image/reference.js";
import { RegistryClient } from "../image/registry/client.js";
import { RegistryBackend } from "../image/store/registry-backend.js";

/** An image's config, read from wherever the user pointed. */
export interface InspectedImage {
  /** The image as the user named it, for messages and output. */
  readonly name: string;
  readonly config: ImageConfig;
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

/**
 * Reads the config of the image `name` points to (linux/amd64 from a multi-platform image); a name without a
 * registry host is read from the runtime driver's image store that `openStore` opens.
 */
export async function readImageConfig(
  name: string,
  registry: RegistryClient = new RegistryClient(),
  openStore?: () => Promise<StoreAccess>,
): Promise<InspectedImage> {
  const location = await locateImage(name);
  switch (location.kind) {
    case "registry":
      return { name, config: await readFromRegistry(registry, name) };
    case "store":
      if (!openStore) throw engineStoreNeeded(name);
      return readFromStore(await openStore(), name);
    case "layout":
      return { name, config: await readFromLayout(await OciLayout.open(location.dir), location.selector) };
    case "archive":
      return { name, config: await readFromLayout(await OciArchive.open(location.file)) };
  }
}

async function readFromStore(store: StoreAccess, name: string): Promise<InspectedImage> {
  try {
    const stored = await store.images.inspect(name);
    if (!stored)
      throw new CnbpError("CNBP_IMAGE_NOT_FOUND", `${name}: no such image in ${store.driver}'s image store`, {
        hints: storeHints(name),
      });
    return asInspected(name, stored);
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

async function readFromLayout(layout: OciLayoutReader, selector?: string): Promise<ImageConfig> {
  return (await layout.readImage(selector)).config;
}

async function readFromRegistry(client: RegistryClient, name: string): Promise<ImageConfig> {
  const image = await new RegistryBackend(client, DEFAULT_PLATFORM).find(name);
  if (!image) {
    throw new CnbpError(
      "CNBP_IMAGE_NOT_FOUND",
      `${name}: no such image in the registry, or none for ${DEFAULT_PLATFORM.os}/${DEFAULT_PLATFORM.architecture}`,
    );
  }
  return image.config;
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
