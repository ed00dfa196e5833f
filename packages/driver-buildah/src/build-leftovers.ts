/**
 * The step images `buildah bud --layers` commits before a build fails or is stopped: buildah keeps them as
 * cache, but the contract wants nothing of a failed build left. They are found as the unnamed images with no
 * child that did not exist before the build and carry all the build's labels (buildah puts `--label` on step
 * images too, measured), so that another build's images are left alone as far as labels can tell them apart;
 * `buildah rmi` of one also removes its unnamed parents that no other image needs (measured).
 */
import { type BuildahCli, buildah } from "./buildah.js";

/** The ids of every image in the store now, intermediate ones included. */
export async function imageIds(cli: BuildahCli): Promise<Set<string>> {
  const r = await buildah(cli, "build", ["images", "--all", "--quiet", "--no-trunc"]);
  return new Set(r.exitCode === 0 ? r.stdout.split("\n").filter((l) => l !== "") : []);
}

/** The unnamed childless images now, with label `k=v` when given. */
async function danglingIds(cli: BuildahCli, label?: string): Promise<string[]> {
  const args = ["images", "--all", "--json", "--no-trunc", "--filter", "dangling=true"];
  const r = await buildah(cli, "build", label ? [...args, "--filter", `label=${label}`] : args);
  if (r.exitCode !== 0) return [];
  return ((JSON.parse(r.stdout || "null") as { id: string }[] | null) ?? []).map((i) => i.id);
}

/**
 * Removes the unnamed childless images not among `before` that carry every one of `labels`; best effort, as
 * cleanup after a failure.
 */
export async function removeNewStepImages(
  cli: BuildahCli,
  before: ReadonlySet<string>,
  labels: Readonly<Record<string, string>>,
): Promise<void> {
  // buildah ORs several label filters: one query per label, intersected
  let left = (await danglingIds(cli)).filter((id) => !before.has(id));
  for (const [k, v] of Object.entries(labels)) {
    if (left.length === 0) break;
    const carrying = new Set(await danglingIds(cli, `${k}=${v}`));
    left = left.filter((id) => carrying.has(id));
  }
  // one at a time: an image another build started using since is refused, and the others still go
  for (const id of left) await buildah(cli, "build", ["rmi", id]);
}
