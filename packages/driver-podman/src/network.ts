/**
 * The network of a step that asks for the default one. slirp4netns, when it is installed: a step reaches
 * what the host reaches, the host's loopback excepted, as every container of rootless Podman does, and it
 * costs no bridge set-up and tear-down (0.4 s a container with CNI here). Else the network `podman run`
 * gives (containers.conf's `netns`: the bridge when rootful).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export type StepNetwork = "slirp4netns" | "podman-default";

/** Where Podman looks for its helper binaries before PATH: containers.conf's default `helper_binaries_dir`. */
const HELPER_DIRS = [
  "/usr/local/libexec/podman",
  "/usr/local/lib/podman",
  "/usr/libexec/podman",
  "/usr/lib/podman",
];

/** True when `name` is an executable in one of `dirs`. */
export function findExecutable(name: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let found: boolean | undefined;

/** The option's value, else slirp4netns when Podman can find it (looked up once per process). */
export function stepNetwork(option: StepNetwork | undefined): StepNetwork {
  if (option) return option;
  const path = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  found ??= findExecutable("slirp4netns", [...HELPER_DIRS, ...path]);
  return found ? "slirp4netns" : "podman-default";
}
