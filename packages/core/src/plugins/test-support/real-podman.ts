/** A driver package whose module is the real Podman driver, so discovery finds it like any installed plugin. */
import { join } from "node:path";
import { driverPackageJson, writePackage } from "./packages.js";

const PODMAN_SOURCE = new URL("../../../../driver-podman/src/index.ts", import.meta.url).href;

/** Writes the package under `parent` and returns its directory. */
export function writeRealPodmanPackage(parent: string): Promise<string> {
  return writePackage(join(parent, "podman"), {
    "package.json": driverPackageJson("fixture-podman", [
      { name: "podman", kinds: ["runtime", "build"], module: "./index.js" },
    ]),
    "index.js": `export * from ${JSON.stringify(PODMAN_SOURCE)};\nexport { default } from ${JSON.stringify(PODMAN_SOURCE)};\n`,
  });
}
