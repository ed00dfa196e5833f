/**
 * The path `Workspace.put` and `get` are given, as segments under the volume's root: it must be absolute and
 * stay inside the volume (DriverError CNBP_UNSAFE_PATH otherwise, as contract.ts says). Drivers share it so
 * that `../` never reaches past a volume, whatever the driver mounts it under.
 */
import { DriverError } from "./errors.js";

export function volumePath(driver: string, operation: string, path: string): string[] {
  const segments = path.split("/").filter((p) => p !== "" && p !== ".");
  if (!path.startsWith("/") || segments.includes(".."))
    throw new DriverError(
      "CNBP_UNSAFE_PATH",
      driver,
      operation,
      `${JSON.stringify(path)} is not an absolute path inside the volume`,
      { hints: ["give a path that starts with / and has no .. in it"] },
    );
  return segments;
}
