/**
 * Buildpacks and extensions as the lifecycle finds them on disk (shared/spec/buildpack.md 1):
 * `<buildpacks>/<escaped-id>/<version>/buildpack.toml` and `<extensions>/<escaped-id>/<version>/extension.toml`,
 * each read and validated once per run.
 */
import { join } from "node:path";
import {
  type BuildpackDescriptor,
  buildpackToml,
  type ExtensionDescriptor,
  extensionToml,
  readSpecFile,
} from "@cnbp/core";

export type ModuleKind = "buildpack" | "extension";

/** A buildpack or an extension, read from its directory. */
export interface Module {
  readonly kind: ModuleKind;
  readonly id: string;
  readonly version: string;
  /** The module's Buildpack API. */
  readonly api: string;
  /** The module's root: CNB_BUILDPACK_DIR or CNB_EXTENSION_DIR. */
  readonly dir: string;
  readonly descriptorPath: string;
  readonly descriptor: BuildpackDescriptor | ExtensionDescriptor;
  readonly homepage?: string;
  /** `clear-env = true`: the platform's env is not applied. */
  readonly clearEnv: boolean;
}

/** A module that cannot be found or read: names the file and the reason. */
export class ModuleError extends Error {
  constructor(
    readonly kind: ModuleKind,
    readonly ref: string,
    message: string,
  ) {
    super(message);
    this.name = "ModuleError";
  }
}

/** `example/node` -> `example_node`: the module's directory name. */
export const escapeId = (id: string) => id.replaceAll("/", "_");

export const moduleRef = (m: { id: string; version?: string }) => (m.version ? `${m.id}@${m.version}` : m.id);

export class ModuleStore {
  private readonly cache = new Map<string, Promise<Module>>();

  constructor(private readonly roots: { readonly buildpacks: string; readonly extensions: string }) {}

  /** The module `id@version` of that kind; rejects with a ModuleError when it is missing or invalid. */
  get(kind: ModuleKind, id: string, version: string): Promise<Module> {
    const key = `${kind} ${id}@${version}`;
    let found = this.cache.get(key);
    if (!found) {
      found = this.read(kind, id, version);
      this.cache.set(key, found);
    }
    return found;
  }

  private async read(kind: ModuleKind, id: string, version: string): Promise<Module> {
    const root = kind === "buildpack" ? this.roots.buildpacks : this.roots.extensions;
    const dir = join(root, escapeId(id), version);
    const descriptorPath = join(dir, `${kind}.toml`);
    let descriptor: BuildpackDescriptor | ExtensionDescriptor;
    try {
      descriptor =
        kind === "buildpack"
          ? await readSpecFile(buildpackToml, descriptorPath)
          : await readSpecFile(extensionToml, descriptorPath);
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === "ENOENT"
          ? `${descriptorPath} does not exist`
          : (err as Error).message;
      throw new ModuleError(kind, `${id}@${version}`, `cannot read ${kind} ${id}@${version}: ${why}`);
    }
    const info =
      kind === "buildpack"
        ? (descriptor as BuildpackDescriptor).buildpack
        : (descriptor as ExtensionDescriptor).extension;
    return {
      kind,
      id,
      version,
      api: descriptor.api,
      dir,
      descriptorPath,
      descriptor,
      ...(info.homepage ? { homepage: info.homepage } : {}),
      clearEnv: info["clear-env"] === true,
    };
  }
}
