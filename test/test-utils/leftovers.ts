/** What builds leave in an engine and in cnbp's cache dir: listed to assert that nothing is, removed at the end. */
import { readdir } from "node:fs/promises";
import { execa } from "execa";
import { type EngineName, engine } from "./index.js";

/**
 * What an engine's listing command (`ps -aq`, `volume ls -q`, `images -q`, with filters) prints, a line each.
 * A listing that fails throws: it must not pass for "nothing left".
 */
export async function listedIn(name: EngineName, args: readonly string[]): Promise<string[]> {
  return (await engine(name, args)).split("\n").filter(Boolean);
}

/** The filter for what cnbp made for the builds of `image`: their containers and volumes carry its name. */
const forBuildsOf = (image: string) => `label=io.cnbp.image=${image}`;

/** Containers and volumes the builds of `image` left in the engine (its cache volume is meant to stay). */
export async function buildLeftovers(engine: EngineName, image: string) {
  const label = forBuildsOf(image);
  return {
    containers: await listedIn(engine, ["ps", "-a", "-q", "--filter", label]),
    volumes: (await listedIn(engine, ["volume", "ls", "-q", "--filter", label])).filter(
      (v) => !v.startsWith("cnbp-cache-"),
    ),
  };
}

/** The temp dirs of fetched buildpacks and of authoring left in cnbp's cache dir. */
export async function tempDirsLeftIn(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => []);
  return names.filter((name) => name.startsWith("buildpacks-") || name.startsWith("cnbp-authoring-"));
}

/**
 * What a clean-up removes: the listing, or nothing when it fails, so that the clean-up goes on (`podman images`
 * fails while another process removes an image, and the machine is shared).
 */
const toRemove = (engine: EngineName, args: readonly string[]) => listedIn(engine, args).catch(() => []);

/** Removes the cache volumes cnbp kept (on purpose) for the builds of `images`. */
export async function removeCacheVolumes(engine: EngineName, images: readonly string[]): Promise<void> {
  for (const image of images) {
    const volumes = await toRemove(engine, ["volume", "ls", "-q", "--filter", forBuildsOf(image)]);
    for (const volume of volumes) await execa(engine, ["volume", "rm", "-f", volume], { reject: false });
  }
}

/**
 * Removes images a test made, by name, and every image named below `<host>/<prefix>/` (host: localhost, or the
 * registry images of a test were pulled from); quiet about those never made.
 */
export async function removeImages(
  engine: EngineName,
  names: readonly string[],
  prefix?: string,
  host = "localhost",
): Promise<void> {
  const below = prefix
    ? await toRemove(engine, ["images", "-q", "--filter", `reference=${host}/${prefix}/*`])
    : [];
  if (below.length > 0) await execa(engine, ["rmi", "-f", ...below], { reject: false });
  if (names.length > 0) await execa(engine, ["rmi", "-f", ...names], { reject: false });
}
