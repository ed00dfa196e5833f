/** The one call a command makes to get its driver: selection, the config file and the options together. */
import { homedir } from "node:os";
import type { BuildDriver, DriverKind, RuntimeDriver } from "../drivers/contract.js";
import { DriverDiscovery, type FoundDriver } from "../plugins/discovery.js";
import { configureDriver, importDriver } from "../plugins/loader.js";
import { selectDriver } from "../plugins/select.js";
import { type DriverOptions, driverOptions } from "./driver-options.js";
import { loadConfig, type UserConfig } from "./file.js";
import { configFilePath } from "./path.js";

export interface OpenDriverRequest<K extends DriverKind> {
  /** `--driver <name>` and every `--driver-opt key=value`, as the command line gave them. */
  readonly flags: { readonly driver?: string; readonly driverOpts?: readonly string[] };
  /** Where CNBP_DRIVER, CNBP_DRIVER_OPTS, CNBP_CONFIG, CNBP_PLUGIN_PATH and the XDG folders are read. */
  readonly env: NodeJS.ProcessEnv;
  readonly kind: K;
  /** The config file; default `configFilePath(env, home)`. */
  readonly configPath?: string;
  /** The built-in driver packages' directories (the CLI knows them: `builtinDriverDirs()`). */
  readonly builtinPackageDirs?: readonly string[];
  /** Default: the user's home directory. */
  readonly home?: string;
}

export interface OpenedDriver<K extends DriverKind> {
  readonly driver: K extends "runtime" ? RuntimeDriver : BuildDriver;
  readonly name: string;
  /** Why this driver: `--driver`, `CNBP_DRIVER`, `config file <path>` or `auto-detected`. */
  readonly reason: string;
  readonly found: FoundDriver;
  /** The options it was made with and where each came from; undefined when none was set. */
  readonly options?: DriverOptions;
  /** The config file read on the way, for the command's other settings (default-builder, trusted-builders, ...). */
  readonly config: UserConfig;
}

/**
 * Opens the driver a command runs on:
 *
 * ```ts
 * const { driver, name, reason, config } = await openDriver({
 *   flags: { driver: opts.driver, driverOpts: opts.driverOpt },   // from addDriverOptions(command)
 *   env: process.env,
 *   kind: "runtime",
 *   builtinPackageDirs: builtinDriverDirs(),
 * });
 * await using _ = driver;   // or call driver[Symbol.asyncDispose]() when done
 * ```
 *
 * The driver comes from `--driver`, else CNBP_DRIVER, else `driver` in the config file, else the first of
 * Podman and Docker whose engine answers `info()`. Its options merge `[drivers.<name>]` from the config file
 * < CNBP_DRIVER_OPTS (`key=value,key=value`) < `--driver-opt key=value`, and are parsed with the driver's
 * `optionsSchema`. Only the selected driver's module is imported (and, when auto-detecting, the ones probed
 * before it). Throws CnbpError: CNBP_INVALID_FILE (the config file), CNBP_USAGE (a malformed key=value),
 * CNBP_DRIVER_NOT_FOUND, CNBP_DRIVER_KIND, CNBP_NO_DRIVER (selection), CNBP_DRIVER_BROKEN, CNBP_DRIVER_IMPORT,
 * CNBP_DRIVER_INVALID (loading), CNBP_DRIVER_OPTIONS (an unknown or invalid option, named with its source).
 */
export async function openDriver<K extends DriverKind>(req: OpenDriverRequest<K>): Promise<OpenedDriver<K>> {
  const home = req.home ?? homedir();
  const config = await loadConfig(req.configPath ?? configFilePath(req.env, home));
  const discovered = await new DriverDiscovery(req.builtinPackageDirs ?? [], req.env, home).discover();
  const optionsFor = (found: FoundDriver) =>
    driverOptions({ driver: found.name, config, env: req.env, flags: req.flags.driverOpts ?? [] });
  const load = async (found: FoundDriver) => {
    const options = optionsFor(found);
    return configureDriver(await importDriver(found), options?.values, options?.sources);
  };
  const selection = await selectDriver({
    flag: req.flags.driver,
    env: req.env,
    config: { driver: config.values.driver, path: config.path },
    discovered,
    kind: req.kind,
    load,
  });
  const driver = selection.driver ?? (await load(selection.found));
  const options = optionsFor(selection.found);
  return {
    driver: driver as OpenedDriver<K>["driver"],
    name: selection.name,
    reason: selection.reason,
    found: selection.found,
    ...(options ? { options } : {}),
    config,
  };
}
