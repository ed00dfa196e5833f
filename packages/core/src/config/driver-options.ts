/**
 * A driver's options from the three places a user sets them, later ones winning:
 * `[drivers.<name>]` in the config file < `CNBP_DRIVER_OPTS` < `--driver-opt key=value` (repeatable).
 * `CNBP_DRIVER_OPTS` is a comma-separated list of `key=value` pairs (`bin=/usr/bin/podman,skopeo=skopeo`); a
 * value cannot hold a comma there (use `--driver-opt` or the config file). Values from the environment and
 * flags are strings: the loader converts them to the numbers and booleans the driver's schema asks for.
 */
import { UsageError } from "../errors.js";
import type { DriverOptionSources } from "../plugins/loader.js";
import type { UserConfig } from "./file.js";
import { OPTION_KEY } from "./schema.js";

export const DRIVER_OPTS_ENV = "CNBP_DRIVER_OPTS";
export const DRIVER_OPT_FLAG = "--driver-opt";

export interface DriverOptionsRequest {
  /** The driver the options are for: its `[drivers.<name>]` table is read. */
  readonly driver: string;
  readonly config: UserConfig;
  readonly env: NodeJS.ProcessEnv;
  /** `--driver-opt` values, each `key=value`. */
  readonly flags: readonly string[];
}

export interface DriverOptions {
  readonly values: Readonly<Record<string, unknown>>;
  /** Where each value was set: `config file <path>`, `CNBP_DRIVER_OPTS` or `--driver-opt`. */
  readonly sources: DriverOptionSources;
}

/** The merged options; undefined when none is set anywhere (the driver's default export is used then). */
export function driverOptions(req: DriverOptionsRequest): DriverOptions | undefined {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const add = (entries: Iterable<[string, unknown]>, source: string) => {
    for (const [key, value] of entries) {
      values[key] = value;
      sources[key] = source;
    }
  };
  add(Object.entries(req.config.values.drivers?.[req.driver] ?? {}), `config file ${req.config.path}`);
  const fromEnv = req.env[DRIVER_OPTS_ENV] ?? "";
  add(
    fromEnv
      .split(",")
      .filter((pair) => pair.trim() !== "")
      .map((pair) => keyValue(pair, DRIVER_OPTS_ENV)),
    DRIVER_OPTS_ENV,
  );
  add(
    req.flags.map((pair) => keyValue(pair, DRIVER_OPT_FLAG)),
    DRIVER_OPT_FLAG,
  );
  return Object.keys(values).length > 0 ? { values, sources } : undefined;
}

/** `key=value` split at its first '='; the value may be empty, the key must be an option name. */
function keyValue(pair: string, source: string): [string, string] {
  const eq = pair.indexOf("=");
  const key = eq < 0 ? "" : pair.slice(0, eq).trim();
  if (!OPTION_KEY.test(key))
    throw new UsageError(`${source} ${JSON.stringify(pair)} is not key=value`, {
      hints: [
        source === DRIVER_OPTS_ENV
          ? `${DRIVER_OPTS_ENV} is a comma-separated list: key=value,key=value`
          : `give one option per flag: ${DRIVER_OPT_FLAG} key=value`,
      ],
    });
  return [key, pair.slice(eq + 1)];
}
