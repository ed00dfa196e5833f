/** Names and labels the drivers give what they create in an engine. */
import { randomBytes } from "node:crypto";

/** The label every volume and container (Pod, PVC) of a workspace carries, valued with its build id. */
export const BUILD_LABEL = "io.cnbp.build";

/**
 * A Docker or Podman object name made of `parts` (`safeObjectName` each), plus a random suffix so that
 * builds with the same id never clash.
 */
export function uniqueName(...parts: string[]): string {
  return [...parts.map(safeObjectName), randomBytes(4).toString("hex")].join("-");
}

/** `s` as a Docker or Podman volume or container name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`): others become '-'. */
export function safeObjectName(s: string): string {
  const cleaned = s.replace(/[^a-zA-Z0-9_.-]/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
  return cleaned === "" ? "x" : cleaned;
}
