/**
 * Files in and out of volumes without a running container: a container created (never started) from an
 * empty image the driver imports itself, with the workspace's volumes mounted, and the engine's archive API
 * on it (the engine mounts a stopped container's volumes for it).
 */
import { createReadStream } from "node:fs";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { DriverError, withCheckedPutTar } from "@cnbp/core";
import type Docker from "dockerode";
import { pack } from "tar-stream";
import { DRIVER_NAME } from "./connection.js";
import { type Engine, engineError, errorOf, followJson, statusOf } from "./engine.js";

/** An image with no files at all: it is only ever created from, never run. */
export const HELPER_IMAGE = "localhost/cnbp-docker/helper:1";

/** Where volume number `index` is mounted in the helper container. */
export const helperMount = (index: number): string => `/cnbp/${index}`;

export async function ensureHelperImage(engine: Engine): Promise<void> {
  try {
    await engine.docker.getImage(HELPER_IMAGE).inspect();
    return;
  } catch (err) {
    if (statusOf(err) !== 404) throw engineError(engine, "workspace", err);
  }
  const [repo, tag] = [HELPER_IMAGE.slice(0, HELPER_IMAGE.lastIndexOf(":")), "1"];
  // an empty tar is two zero blocks
  const response = await engine.docker.importImage(Readable.from([Buffer.alloc(1024)]), { repo, tag });
  let failure: string | undefined;
  await followJson(response, (m) => {
    failure ??= errorOf(m);
  });
  if (failure)
    throw new DriverError(
      "CNBP_DRIVER_FAILED",
      DRIVER_NAME,
      "workspace",
      `importing ${HELPER_IMAGE}: ${failure}`,
    );
}

/** A tar of one directory entry `name` with mode 0755 and the owner `uid:gid`. */
export async function dirTar(names: readonly string[], owner: string | undefined): Promise<Buffer> {
  const [uid = "0", gid = uid] = (owner ?? "0:0").split(":");
  const p = pack();
  for (const name of names)
    p.entry({ name, type: "directory", mode: 0o755, uid: Number(uid), gid: Number(gid), mtime: new Date() });
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Sets the owner of volume `index`'s root: the engine applies a directory entry's metadata to a directory
 * that exists (except to the extraction root itself, hence the entry named after the mount point).
 */
export async function chownRoot(engine: Engine, helper: Docker.Container, index: number, owner: string) {
  const mount = helperMount(index);
  await helper
    .putArchive(await dirTar([posix.basename(mount)], owner), { path: posix.dirname(mount) })
    .catch((err: unknown) => {
      throw engineError(engine, "workspace", err);
    });
}

/**
 * Extracts `tar` into `dir` (absolute, inside the helper, below `mount`) after checking every entry stays
 * inside it; missing directories down to `dir` are made first, owned by `owner`.
 */
export async function copyIn(
  engine: Engine,
  helper: Docker.Container,
  mount: string,
  dir: string,
  tar: Readable,
  owner: string | undefined,
): Promise<void> {
  const OP = "workspace.put";
  await withCheckedPutTar(tar, DRIVER_NAME, async (file) => {
    await makeDirs(engine, helper, mount, dir, owner);
    await helper.putArchive(createReadStream(file), { path: dir }).catch((err: unknown) => {
      throw engineError(engine, OP, err);
    });
  });
}

/** Creates `dir` and its missing parents below `mount`, leaving the ones that exist as they are. */
async function makeDirs(
  engine: Engine,
  helper: Docker.Container,
  mount: string,
  dir: string,
  owner?: string,
) {
  const missing: string[] = [];
  let existing = dir;
  while (existing !== mount && !(await exists(engine, helper, existing))) {
    missing.unshift(posix.basename(existing));
    existing = posix.dirname(existing);
  }
  if (missing.length === 0) return;
  const names = missing.map((_, i) => missing.slice(0, i + 1).join("/"));
  await helper.putArchive(await dirTar(names, owner), { path: existing }).catch((err: unknown) => {
    throw engineError(engine, "workspace.put", err);
  });
}

async function exists(engine: Engine, helper: Docker.Container, path: string): Promise<boolean> {
  try {
    // a HEAD answer: nothing to read, but the response must be consumed to free its socket
    ((await helper.infoArchive({ path })) as Readable).resume();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw engineError(engine, "workspace.put", err);
  }
}

/** A tar stream of `path` (inside the helper), entries relative to its parent; CNBP_NOT_FOUND when absent. */
export async function copyOut(
  engine: Engine,
  helper: Docker.Container,
  path: string,
  shown: string,
): Promise<Readable> {
  try {
    return (await helper.getArchive({ path })) as Readable;
  } catch (err) {
    if (statusOf(err) === 404)
      throw new DriverError("CNBP_NOT_FOUND", DRIVER_NAME, "workspace.get", `no ${JSON.stringify(shown)}`);
    throw engineError(engine, "workspace.get", err);
  }
}
