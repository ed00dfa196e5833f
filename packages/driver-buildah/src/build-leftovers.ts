/**
 * The step images `buildah bud --layers` commits before a build fails or is stopped: buildah keeps them as
 * cache, but the contract wants nothing of a failed build left. They are found as the unnamed images with no
 * child that did not exist before the build; `buildah rmi` of one also removes its unnamed parents that no
 * other image needs (measured), so the whole chain goes.
 */
import { type BuildahCli, buildah } from "./buildah.js";

/** The ids of every image in the store now, intermediate ones included. */
export async function imageIds(cli: BuildahCli): Promise<Set<string>> {
  const r = await buildah(cli, "build", ["images", "--all", "--quiet", "--no-trunc"]);
  return new Set(r.exitCode === 0 ? r.stdout.split("\n").filter((l) => l !== "") : []);
}

/** Removes the unnamed childless images that are not among `before`; best effort, as cleanup after a failure. */
export async function removeNewStepImages(cli: BuildahCli, before: ReadonlySet<string>): Promise<void> {
  const r = await buildah(cli, "build", [
    "images",
    "--all",
    "--json",
    "--no-trunc",
    "--filter",
    "dangling=true",
  ]);
  if (r.exitCode !== 0) return;
  const left = ((JSON.parse(r.stdout || "null") as { id: string }[] | null) ?? [])
    .map((i) => i.id)
    .filter((id) => !before.has(id));
  // one at a time: an image another build started using since is refused, and the others still go
  for (const id of left) await buildah(cli, "build", ["rmi", id]);
}
