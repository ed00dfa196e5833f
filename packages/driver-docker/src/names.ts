/** Names and labels the driver gives to what it creates. */
import { randomBytes } from "node:crypto";

/** The label every volume and container of a workspace carries, valued with its build id. */
export const BUILD_LABEL = "io.cnbp.build";

/** A docker object name made of `parts`: characters docker refuses become '-', plus a random suffix. */
export function uniqueName(...parts: string[]): string {
  return [...parts.map(safe), randomBytes(4).toString("hex")].join("-");
}

/** `s` as a docker volume or container name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`). */
export function safe(s: string): string {
  const cleaned = s.replace(/[^a-zA-Z0-9_.-]/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
  return cleaned === "" ? "x" : cleaned;
}
