/**
 * Finds driver packages without importing them: reads package.json files from the sources, validates their
 * `cnbp` field and reports every declared driver, working or not. One broken package never stops discovery:
 * it is listed with the reason.
 */
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import type { DriverKind } from "../drivers/contract.js";
import { nodePluginFiles, type PluginFiles } from "./files.js";
import { checkManifest, DRIVER_KEYWORD } from "./manifest.js";
import { type PluginSource, type PluginSourceKind, pluginSources } from "./sources.js";

export interface FoundDriver {
  /** The driver's name; the package's name when the manifest names no driver that could be read. */
  readonly name: string;
  /** Empty when the manifest could not be read. */
  readonly kinds: readonly DriverKind[];
  readonly package: string;
  readonly version: string;
  /** The package's directory. */
  readonly dir: string;
  readonly source: PluginSourceKind;
  /** Absolute path of the driver's module, when the manifest names one. */
  readonly module?: string;
  readonly status: "ok" | "broken";
  /** Why the driver cannot be used, when broken. */
  readonly reason?: string;
}

/** A path that was searched but held no package: a CNBP_PLUGIN_PATH entry that does not exist, an unreadable package.json. */
export interface DiscoveryProblem {
  readonly source: PluginSourceKind;
  readonly path: string;
  readonly reason: string;
}

export interface Discovery {
  /** In source order (built-in, user, CNBP_PLUGIN_PATH), then package directory order. */
  readonly drivers: readonly FoundDriver[];
  readonly problems: readonly DiscoveryProblem[];
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  keywords?: unknown;
  cnbp?: unknown;
}

export class DriverDiscovery {
  constructor(
    private readonly builtinPackageDirs: readonly string[] = [],
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly home: string = homedir(),
    private readonly files: PluginFiles = nodePluginFiles,
  ) {}

  sources(): PluginSource[] {
    return pluginSources(this.builtinPackageDirs, this.env, this.home);
  }

  /** Never throws for a bad package or path: each is reported in `drivers` or `problems`. */
  async discover(): Promise<Discovery> {
    const drivers: FoundDriver[] = [];
    const problems: DiscoveryProblem[] = [];
    const seen = new Set<string>();
    for (const source of this.sources()) {
      for (const path of source.paths) {
        const { dirs, direct } = await this.packageDirs(source, resolve(path), problems);
        for (const dir of dirs) {
          if (seen.has(dir)) continue;
          seen.add(dir);
          drivers.push(...(await this.readPackage(source, dir, direct, problems)));
        }
      }
    }
    return { drivers: markDuplicates(drivers), problems };
  }

  /** A package directory itself, or the packages of a node_modules directory (scoped ones included). */
  private async packageDirs(
    source: PluginSource,
    path: string,
    problems: DiscoveryProblem[],
  ): Promise<{ dirs: string[]; direct: boolean }> {
    try {
      if (await this.files.exists(join(path, "package.json"))) return { dirs: [path], direct: true };
      const names = await this.files.list(path);
      if (names === undefined) {
        // the user's folder need not exist; a path the user gave must
        if (source.kind !== "user") problems.push({ source: source.kind, path, reason: "no such directory" });
        return { dirs: [], direct: false };
      }
      const dirs: string[] = [];
      for (const name of names) {
        if (name.startsWith(".")) continue;
        if (name.startsWith("@")) {
          for (const scoped of (await this.files.list(join(path, name))) ?? [])
            if (!scoped.startsWith(".")) dirs.push(join(path, name, scoped));
        } else dirs.push(join(path, name));
      }
      return { dirs, direct: false };
    } catch (err) {
      problems.push({ source: source.kind, path, reason: (err as Error).message });
      return { dirs: [], direct: false };
    }
  }

  private async readPackage(
    source: PluginSource,
    dir: string,
    direct: boolean,
    problems: DiscoveryProblem[],
  ): Promise<FoundDriver[]> {
    const file = join(dir, "package.json");
    let pkg: PackageJson;
    try {
      const text = await this.files.readText(file);
      if (text === undefined) return [];
      pkg = JSON.parse(text) as PackageJson;
      if (typeof pkg !== "object" || pkg === null) throw new Error("it is not a JSON object");
    } catch (err) {
      problems.push({ source: source.kind, path: file, reason: `cannot read it: ${(err as Error).message}` });
      return [];
    }
    const isDriverPackage =
      pkg.cnbp !== undefined || (Array.isArray(pkg.keywords) && pkg.keywords.includes(DRIVER_KEYWORD));
    if (!isDriverPackage) {
      // built-in packages without a manifest are drivers still to come; a path the user named must be one
      if (source.kind === "CNBP_PLUGIN_PATH" && direct)
        problems.push({
          source: source.kind,
          path: dir,
          reason: "not a cnbp driver package (no cnbp field)",
        });
      return [];
    }
    const packageName = typeof pkg.name === "string" ? pkg.name : basename(dir);
    const base = {
      package: packageName,
      version: typeof pkg.version === "string" ? pkg.version : "",
      dir,
      source: source.kind,
    };
    const check = checkManifest(pkg.cnbp);
    if (!check.ok) {
      const names = check.names.length > 0 ? check.names : [packageName];
      return names.map((name) => ({ ...base, name, kinds: [], status: "broken", reason: check.reason }));
    }
    const found: FoundDriver[] = [];
    for (const d of check.manifest.drivers) {
      const module = join(dir, d.module);
      const present = await this.files.exists(module).catch(() => false);
      found.push({
        ...base,
        name: d.name,
        kinds: d.kinds,
        module,
        ...(present
          ? { status: "ok" }
          : { status: "broken", reason: `module file ${d.module} is missing (is the package built?)` }),
      });
    }
    return found;
  }
}

/** The first working driver of a name keeps it; later working ones with the same name are broken. */
function markDuplicates(drivers: FoundDriver[]): FoundDriver[] {
  const owners = new Map<string, FoundDriver>();
  return drivers.map((d) => {
    if (d.status !== "ok") return d;
    const owner = owners.get(d.name);
    if (!owner) {
      owners.set(d.name, d);
      return d;
    }
    return {
      ...d,
      status: "broken",
      reason: `duplicate name: ${owner.package} (${owner.source}) already provides driver ${JSON.stringify(d.name)}`,
    };
  });
}

/** The driver called `name` that discovery found: the working one if any, else the first broken one. */
export function findDriver(discovery: Discovery, name: string): FoundDriver | undefined {
  const named = discovery.drivers.filter((d) => d.name === name);
  return named.find((d) => d.status === "ok") ?? named[0];
}
