/**
 * `cnbp driver install` and `cnbp driver remove`: npm packages in the user's plugin folder (userPluginDir).
 * Plugins are code that runs as the user, so npm runs with `--ignore-scripts`, and a package is installed into
 * a staging copy of the folder first: only when its manifest declares working drivers does the copy replace
 * the folder, so a refused package leaves the folder exactly as it was.
 */
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CnbpError, UsageError } from "../errors.js";
import { DriverDiscovery, type FoundDriver } from "./discovery.js";
import { checkManifest } from "./manifest.js";
import { installFailure, lastLines, runNpm } from "./npm.js";
import { type PluginSource, userPluginDir } from "./sources.js";

/** What `install` put into the plugin folder. */
export interface InstalledPackage {
  readonly package: string;
  readonly version: string;
  /** Names of the drivers it provides. */
  readonly drivers: readonly string[];
  /** Where npm got it, as the folder's package-lock.json records it (a registry tarball URL or a file: path). */
  readonly resolved?: string;
  /** Its SRI hash (`sha512-...`) from package-lock.json; absent for a package installed from a directory. */
  readonly integrity?: string;
  /** The package's directory in the plugin folder. */
  readonly dir: string;
}

/** What `remove` took out of the plugin folder. */
export interface RemovedPackage {
  readonly package: string;
  readonly version: string;
  readonly drivers: readonly string[];
  readonly dir: string;
}

export interface PluginInstallerOptions {
  /** The built-in driver packages' directories: their driver names cannot be taken, nor removed. */
  readonly builtinPackageDirs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly home?: string;
  /** The npm command; "npm" (from PATH) by default. */
  readonly npm?: string;
  /** Where relative paths in a spec are resolved; the process's working directory by default. */
  readonly cwd?: string;
}

interface PackageJson {
  version?: unknown;
  cnbp?: unknown;
  dependencies?: Record<string, string>;
}

/** The plugin folder's own package.json, written when the folder is new. */
const FOLDER_PACKAGE_JSON = {
  name: "cnbp-plugins",
  private: true,
  description: "Driver packages installed with `cnbp driver install`; change them with cnbp, not npm",
};

const NPM_FLAGS = ["--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"];

export class PluginInstaller {
  private readonly builtin: readonly string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly home: string;
  private readonly npm: string;
  private readonly cwd: string;

  constructor(opts: PluginInstallerOptions = {}) {
    this.builtin = opts.builtinPackageDirs ?? [];
    this.env = opts.env ?? process.env;
    this.home = opts.home ?? homedir();
    this.npm = opts.npm ?? "npm";
    this.cwd = opts.cwd ?? process.cwd();
  }

  /** The user's plugin folder: its package.json and node_modules. */
  get pluginDir(): string {
    return userPluginDir(this.env, this.home);
  }

  /**
   * Installs `spec` (an npm package name with an optional version or range, a directory or a tarball) with
   * npm, from `registry` when given. Throws CNBP_PLUGIN_INVALID naming the package and the field when its
   * manifest declares no working driver (missing, invalid, another apiVersion, a module file missing, a name
   * another driver has), CNBP_PLUGIN_NOT_FOUND, CNBP_NETWORK, CNBP_NPM_NOT_FOUND or CNBP_NPM_FAILED when npm
   * cannot install it; in every such case the plugin folder is left as it was.
   */
  async install(spec: string, opts: { readonly registry?: string } = {}): Promise<InstalledPackage> {
    const target = await this.resolveSpec(spec);
    const pluginDir = this.pluginDir;
    await mkdir(dirname(pluginDir), { recursive: true });
    // a sibling of the folder, so the relative `file:` paths npm saves stay right after the swap
    const staging = await mkdtemp(join(dirname(pluginDir), ".plugins-staging-"));
    const previous = `${staging}.previous`;
    try {
      if (await exists(pluginDir)) await cp(pluginDir, staging, { recursive: true, verbatimSymlinks: true });
      if (!(await exists(join(staging, "package.json"))))
        await writeFile(join(staging, "package.json"), `${JSON.stringify(FOLDER_PACKAGE_JSON, null, 2)}\n`);
      const before = await dependencies(staging);
      const r = await runNpm(
        this.npm,
        [
          "install",
          "--prefix",
          staging,
          ...NPM_FLAGS,
          // a directory is copied, not linked: the folder must not depend on where the sources were
          "--install-links",
          "--save-exact",
          // the lockfile is the record of what was installed from where
          "--omit-lockfile-registry-resolved=false",
          ...(opts.registry ? ["--registry", opts.registry] : []),
          "--",
          target,
        ],
        staging,
        this.env,
      );
      if (r.exitCode !== 0) throw installFailure(spec, opts.registry, r);
      const name = installedName(before, await dependencies(staging), spec, target, staging);
      const installed = await this.check(name, staging, pluginDir);
      const lock = await lockEntry(staging, name);
      await replaceDir(pluginDir, staging, previous);
      return { ...installed, ...lock, dir: join(pluginDir, "node_modules", ...name.split("/")) };
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(previous, { recursive: true, force: true });
    }
  }

  /**
   * Removes the package that provides driver `name`, or the package called `name`, from the plugin folder.
   * Throws CNBP_DRIVER_BUILTIN for a built-in driver, CNBP_DRIVER_NOT_FOUND when the folder has neither.
   */
  async remove(name: string): Promise<RemovedPackage> {
    if (name.trim() === "") throw new UsageError("cnbp driver remove needs a driver or package name");
    const pluginDir = this.pluginDir;
    const found = await new DriverDiscovery(this.builtin, this.env, this.home).discover();
    const user = found.drivers.filter((d) => d.source === "user");
    const target = user.find((d) => d.name === name) ?? user.find((d) => d.package === name);
    const installed = await dependencies(pluginDir);
    if (!target || !(target.package in installed)) {
      const builtin = found.drivers.find(
        (d) => d.source === "builtin" && (d.name === name || d.package === name),
      );
      if (builtin)
        throw new CnbpError(
          "CNBP_DRIVER_BUILTIN",
          `driver ${builtin.name} is built into cnbp (package ${builtin.package}) and cannot be removed`,
          { hints: ["only drivers installed with `cnbp driver install` can be removed"] },
        );
      const names = Object.keys(installed);
      throw new CnbpError(
        "CNBP_DRIVER_NOT_FOUND",
        `no driver or driver package named ${JSON.stringify(name)} is installed in ${pluginDir}`,
        {
          hints: [
            names.length > 0 ? `installed packages: ${names.join(", ")}` : "no driver package is installed",
          ],
        },
      );
    }
    const r = await runNpm(
      this.npm,
      ["uninstall", "--prefix", pluginDir, ...NPM_FLAGS, "--", target.package],
      pluginDir,
      this.env,
    );
    if (r.exitCode !== 0)
      throw new CnbpError(
        "CNBP_NPM_FAILED",
        `npm uninstall ${target.package} failed (exit code ${r.exitCode})`,
        {
          hints: [lastLines(r.stderr || r.stdout)],
        },
      );
    return {
      package: target.package,
      version: target.version,
      drivers: user.filter((d) => d.package === target.package).map((d) => d.name),
      dir: target.dir,
    };
  }

  /** What npm is given: a local path made absolute (the staging folder is not the user's directory). */
  private async resolveSpec(spec: string): Promise<string> {
    if (spec.trim() === "")
      throw new UsageError(
        "cnbp driver install needs a package: an npm package name, a directory or a .tgz file",
      );
    if (spec.startsWith("-")) throw new UsageError(`${JSON.stringify(spec)} is not a package name`);
    if (!isLocalSpec(spec)) return spec;
    const path = spec.replace(/^file:/, "").replace(/^~(?=\/)/, this.home);
    const abs = resolve(this.cwd, path);
    if (!(await exists(abs)))
      throw new CnbpError("CNBP_PLUGIN_NOT_FOUND", `${spec}: no such file or directory`);
    return abs;
  }

  /** The drivers package `name` of the staging folder provides; throws CNBP_PLUGIN_INVALID when any is broken. */
  private async check(name: string, staging: string, pluginDir: string) {
    const dir = join(staging, "node_modules", ...name.split("/"));
    const pkg = (await readJson(join(dir, "package.json"))) as PackageJson | undefined;
    const version = typeof pkg?.version === "string" ? pkg.version : "";
    const { drivers } = await new StagingDiscovery(this.builtin, staging).discover();
    const provided: FoundDriver[] = drivers.filter((d) => d.source === "user" && d.dir === dir);
    const broken = provided.find((d) => d.status !== "ok");
    const reason =
      provided.length === 0 ? (manifestProblem(pkg?.cnbp) ?? "not a cnbp driver package") : broken?.reason;
    if (reason !== undefined)
      throw new CnbpError("CNBP_PLUGIN_INVALID", `cannot install ${name}@${version}: ${reason}`, {
        hints: [
          `nothing was installed: ${pluginDir} is as it was`,
          "a driver package declares its drivers in the `cnbp` field of its package.json",
        ],
      });
    return { package: name, version, drivers: provided.map((d) => d.name) };
  }
}

/** Discovery that takes a staging copy of the plugin folder for the user's folder. */
class StagingDiscovery extends DriverDiscovery {
  constructor(
    private readonly builtin: readonly string[],
    private readonly staging: string,
  ) {
    super(builtin);
  }

  override sources(): PluginSource[] {
    return [
      { kind: "builtin", paths: this.builtin },
      { kind: "user", paths: [join(this.staging, "node_modules")] },
    ];
  }
}

const manifestProblem = (cnbp: unknown) => {
  const check = checkManifest(cnbp);
  return check.ok ? undefined : check.reason;
};

const isLocalSpec = (spec: string) =>
  /^(\.{1,2}|~)?\//.test(spec) ||
  spec === "." ||
  spec === ".." ||
  spec.startsWith("file:") ||
  /\.(tgz|tar\.gz|tar)$/.test(spec);

/**
 * The package npm just installed: the dependency it added or changed in the folder's package.json, else (a
 * reinstall changes nothing) the one the spec names.
 */
function installedName(
  before: Record<string, string>,
  after: Record<string, string>,
  spec: string,
  target: string,
  folder: string,
): string {
  const changed = Object.keys(after).filter((k) => before[k] !== after[k]);
  if (changed.length === 1) return changed[0] as string;
  const named = Object.keys(after).find((k) => {
    const saved = after[k] as string;
    if (saved.startsWith("file:")) return resolve(folder, saved.slice("file:".length)) === target;
    return k === /^(@[^/@]+\/[^@]+|[^@]+)/.exec(spec)?.[1];
  });
  if (named) return named;
  throw new CnbpError(
    "CNBP_NPM_FAILED",
    `npm installed ${spec}, but cnbp cannot tell which package it added`,
  );
}

/** Swaps `staging` in for `dir`, keeping the old folder at `previous` until the swap is done. */
async function replaceDir(dir: string, staging: string, previous: string): Promise<void> {
  if (!(await exists(dir))) return rename(staging, dir);
  await rename(dir, previous);
  try {
    await rename(staging, dir);
  } catch (err) {
    await rename(previous, dir);
    throw err;
  }
}

async function lockEntry(folder: string, name: string): Promise<{ resolved?: string; integrity?: string }> {
  const lock = (await readJson(join(folder, "package-lock.json"))) as
    | { packages?: Record<string, { resolved?: unknown; integrity?: unknown }> }
    | undefined;
  const entry = lock?.packages?.[`node_modules/${name}`];
  return {
    ...(typeof entry?.resolved === "string" ? { resolved: entry.resolved } : {}),
    ...(typeof entry?.integrity === "string" ? { integrity: entry.integrity } : {}),
  };
}

async function dependencies(folder: string): Promise<Record<string, string>> {
  const pkg = (await readJson(join(folder, "package.json"))) as PackageJson | undefined;
  return { ...pkg?.dependencies };
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
