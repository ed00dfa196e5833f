/** What builds leave in an engine and in cnbp's cache dir: listed to assert that nothing is, removed at the end. */
import { readdir } from "node:fs/promises";
import { execa } from "execa";
import type { EngineName } from "./index.js";

const lines = (text: string) => text.split("\n").filter(Boolean);

/** Containers and volumes the builds of `image` left in the engine (its cache volume is meant to stay). */
export async function buildLeftovers(engine: EngineName, image: string) {
  const label = `label=io.cnbp.image=${image}`;
  const containers = await execa(engine, ["ps", "-a", "-q", "--filter", label], { reject: false });
  const volumes = await execa(engine, ["volume", "ls", "-q", "--filter", label], { reject: false });
  return {
    containers: lines(containers.stdout),
    volumes: lines(volumes.stdout).filter((v) => !v.startsWith("cnbp-cache-")),
  };
}

/** The temp dirs of fetched buildpacks and of authoring left in cnbp's cache dir. */
export async function tempDirsLeftIn(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => []);
  return names.filter((name) => name.startsWith("buildpacks-") || name.startsWith("cnbp-authoring-"));
}

/** Removes the cache volumes cnbp kept (on purpose) for the builds of `images`. */
export async function removeCacheVolumes(engine: EngineName, images: readonly string[]): Promise<void> {
  for (const image of images) {
    const listed = await execa(engine, ["volume", "ls", "-q", "--filter", `label=io.cnbp.image=${image}`], {
      reject: false,
    });
    for (const volume of lines(listed.stdout))
      await execa(engine, ["volume", "rm", "-f", volume], { reject: false });
  }
}

/** Removes images a test made, by name, and every image named below `localhost/<prefix>/`; quiet about those never made. */
export async function removeImages(
  engine: EngineName,
  names: readonly string[],
  prefix?: string,
): Promise<void> {
  const below = prefix
    ? lines(
        (
          await execa(engine, ["images", "-q", "--filter", `reference=localhost/${prefix}/*`], {
            reject: false,
          })
        ).stdout,
      )
    : [];
  if (below.length > 0) await execa(engine, ["rmi", "-f", ...below], { reject: false });
  if (names.length > 0) await execa(engine, ["rmi", "-f", ...names], { reject: false });
}
