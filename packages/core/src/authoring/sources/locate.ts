/**
 * What a `uri` in builder.toml or package.toml points at (distribution.md 1): a directory, an archive of a
 * module or lifecycle (`.tgz`/`.tar`, local, `file://` or `https://`), a buildpackage file (an OCI layout
 * tar, `.cnb`) or an image (`docker://`). Downloads land in the run's scratch dir.
 */
import { createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { readLayer } from "../../image/index.js";
import { SourceError } from "../context.js";
import type { Scratch } from "../scratch.js";

const REGISTRY_URN = "urn:cnb:registry:";

export type Located =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "archive"; readonly path: string }
  | { readonly kind: "package-file"; readonly path: string }
  | { readonly kind: "image"; readonly ref: string };

export async function locate(uri: string, baseDir: string, scratch: Scratch): Promise<Located> {
  if (uri.startsWith("docker://")) return { kind: "image", ref: uri.slice("docker://".length) };
  if (uri.startsWith("urn:cnb:")) throw unresolvableUrn(uri);
  if (/^https?:\/\//.test(uri)) return classifyFile(await download(uri, scratch));
  const path = uri.startsWith("file://") ? fileURLToPath(uri) : resolve(baseDir, uri);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new SourceError(`${JSON.stringify(uri)}: ${path} does not exist`);
  }
  return isDir ? { kind: "dir", path } : classifyFile(path);
}

/**
 * pack resolves `urn:cnb:registry:<id>[@<version>]` through the buildpack registry's index (a git repository
 * on the internet) to the buildpackage image it lists; cnbp reaches no such index, so it asks for that image.
 */
function unresolvableUrn(uri: string): SourceError {
  const registryId = uri.startsWith(REGISTRY_URN) ? uri.slice(REGISTRY_URN.length) : undefined;
  if (registryId) {
    return new SourceError(
      `${JSON.stringify(uri)} is a buildpack registry id, and cnbp reaches no buildpack registry: give the buildpackage the registry lists for ${registryId} as docker://<image>, or the buildpack's directory or .tgz`,
    );
  }
  return new SourceError(
    `${JSON.stringify(uri)} is not a source cnbp can read here: give a docker://<image> buildpackage, a directory, or a .tgz`,
  );
}

/** An OCI layout tar (it has an `oci-layout` file at its root) is a buildpackage; any other tar an archive. */
async function classifyFile(path: string): Promise<Located> {
  try {
    for await (const entry of readLayer(path)) {
      if (entry.path === "/oci-layout") return { kind: "package-file", path };
    }
  } catch (err) {
    throw new SourceError(`${path} is not a tar or tgz archive: ${(err as Error).message}`);
  }
  return { kind: "archive", path };
}

async function download(url: string, scratch: Scratch): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    // fetch says only "fetch failed": the why (a refused connection, an untrusted certificate) is its cause
    const cause =
      (err as Error).cause instanceof Error ? ` (${((err as Error).cause as Error).message})` : "";
    throw new SourceError(`cannot download ${url}: ${(err as Error).message}${cause}`);
  }
  if (!response.ok || !response.body) {
    throw new SourceError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  }
  const file = scratch.path("download");
  await pipeline(Readable.fromWeb(response.body as never), createWriteStream(file));
  return file;
}
