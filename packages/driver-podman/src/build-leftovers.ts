/**
 * The working containers `podman build` leaves when it is stopped mid-build (measured: a SIGTERM while a RUN
 * runs sometimes exits before Buildah removes its container). They carry no label, so they are found as the
 * Buildah containers from the base image that did not exist before the build started.
 */
import { type PodmanCli, podman } from "./podman.js";

interface PsJson {
  Id: string;
  ImageID?: string;
  Names?: string[];
}

const WORKING = /-working-container(-\d+)?$/;

/** Every Buildah working container now. */
export async function workingContainers(cli: PodmanCli): Promise<PsJson[]> {
  const r = await podman(cli, "build", ["ps", "--all", "--external", "--format", "json"]);
  if (r.exitCode !== 0) return [];
  return (JSON.parse(r.stdout || "[]") as PsJson[]).filter((c) => c.Names?.some((n) => WORKING.test(n)));
}

/** Removes the working containers from `baseImage` that are not among `before`. */
export async function removeLeftovers(
  cli: PodmanCli,
  baseImage: string,
  before: readonly PsJson[],
): Promise<void> {
  const base = await podman(cli, "build", ["image", "inspect", "--format", "{{.Id}}", baseImage]);
  if (base.exitCode !== 0) return;
  const known = new Set(before.map((c) => c.Id));
  const left = (await workingContainers(cli)).filter(
    (c) => !known.has(c.Id) && c.ImageID === base.stdout.trim(),
  );
  if (left.length) await podman(cli, "build", ["rm", "--force", ...left.map((c) => c.Id)]);
}
