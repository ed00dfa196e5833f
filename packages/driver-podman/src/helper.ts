import { Readable } from "node:stream";
import { DriverError, withCheckedPutTar } from "@cnbp/core/drivers";
import { DRIVER_NAME, failed, type PodmanCli, podmanOk } from "./podman.js";
import { getArchive, libpod, putArchive } from "./service.js";

/** An image with no files at all: it is only ever created from, never run. */
const HELPER_IMAGE = "localhost/cnbp-podman/helper:1";

/**
 * Creates the helper container `name` with `podmanVolumes` mounted in order at `helperMount(i)`; the helper
 * image is made only when podman does not know it, so a workspace pays no call to check for it.
 */
export async function createHelper(
  cli: PodmanCli,
  name: string,
  labels: Readonly<Record<string, string>>,
  podmanVolumes: readonly string[],
): Promise<void> {
  const create = () =>
    libpod(cli, "workspace", "POST", "/containers/create", {
      name,
      image: HELPER_IMAGE,
      labels,
      volumes: podmanVolumes.map((v, i) => ({ Name: v, Dest: helperMount(i) })),
    });
  let r = await create();
  if (r.exitCode !== 0 && /image not known/i.test(r.stderr)) {
    // an empty tar is two zero blocks
    await podmanOk(cli, "workspace", ["import", "--change", 'CMD ["/cnbp-helper"]', "-", HELPER_IMAGE], {
      input: Buffer.alloc(1024),
    });
    r = await create();
  }
  if (r.exitCode !== 0) throw failed("workspace", r);
}

/** Where volume number `index` is mounted in the helper container. */
export const helperMount = (index: number): string => `/cnbp/${index}`;

/** Extracts `tar` into `dir` (absolute, inside the helper) after checking every entry stays inside it. */
export async function copyIn(cli: PodmanCli, container: string, dir: string, tar: Readable): Promise<void> {
  await withCheckedPutTar(tar, DRIVER_NAME, async (file) => {
    const r = await putArchive(cli, "workspace.put", container, dir, file);
    if (r.exitCode !== 0) throw failed("workspace.put", r);
  });
}

/** A tar stream of `path` (inside the helper), entries relative to its parent; CNBP_NOT_FOUND when absent. */
export async function copyOut(
  cli: PodmanCli,
  container: string,
  path: string,
  shown: string,
): Promise<Readable> {
  const r = await getArchive(cli, "workspace.get", container, path);
  if (r instanceof Readable) return r;
  if (r.exitCode === 404)
    throw new DriverError("CNBP_NOT_FOUND", DRIVER_NAME, "workspace.get", `no ${JSON.stringify(shown)}`);
  throw failed("workspace.get", r);
}
