/** Writes real driver packages into a directory, as npm would install them, for discovery and loader tests. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** The JavaScript of a minimal driver object that fits both contracts, named `name`. */
export function minimalDriverSource(name: string, extra = ""): string {
  return `const noop = async () => {};
const driver = {
  apiVersion: 1,
  name: ${JSON.stringify(name)},
  capabilities: { rootless: true, sharesImageStoreWith: [], ociLayoutImport: false, ociLayoutExport: false,
    bindMounts: false, networks: ["default"], registryOnly: false },
  info: async () => ({ engine: "fake", version: "1.0.0", os: "linux", arch: "amd64", rootless: true, imageStore: "fake:" }),
  images: { inspect: async () => undefined, pull: noop, importOciLayout: noop, exportOciLayout: noop, tag: noop, remove: noop },
  volumes: { list: async () => [], remove: noop },
  workspace: noop,
  build: noop,
  [Symbol.asyncDispose]: noop,
};
export default driver;
${extra}`;
}

export interface PackageFiles {
  readonly "package.json": unknown;
  readonly [file: string]: unknown;
}

/** Writes `files` under `dir` (package.json as JSON, the others as text) and returns `dir`. */
export async function writePackage(dir: string, files: PackageFiles): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  return dir;
}

/** A package.json declaring `drivers` (name, kinds, module) at apiVersion 1. */
export function driverPackageJson(
  name: string,
  drivers: readonly { name: string; kinds: readonly string[]; module: string }[],
  version = "1.0.0",
) {
  return { name, version, type: "module", keywords: ["cnbp-driver"], cnbp: { apiVersion: 1, drivers } };
}
