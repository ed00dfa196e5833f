/** `--driver <name>` and repeatable `--driver-opt key=value`, the same on every command that runs on a driver. */
import type { OpenDriverRequest } from "@cnbp/core";
import { type Command, Option } from "commander";

export interface DriverFlags {
  readonly driver?: string;
  readonly driverOpt: readonly string[];
}

/** Adds the two options to `command`; its action reads them with `driverFlags(opts)`. */
export function addDriverOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--driver <name>",
        "the driver to run on (default: CNBP_DRIVER, else `driver` in the config file, else the first of podman and docker that answers)",
      ),
    )
    .addOption(
      new Option(
        "--driver-opt <key=value>",
        "a driver option, repeatable; wins over CNBP_DRIVER_OPTS and [drivers.<name>] in the config file",
      )
        .argParser((value: string, previous: string[]) => [...previous, value])
        .default([]),
    );
}

/** The flags as `openDriver` takes them. */
export function driverFlags(opts: DriverFlags): OpenDriverRequest<"runtime">["flags"] {
  return { ...(opts.driver !== undefined ? { driver: opts.driver } : {}), driverOpts: opts.driverOpt };
}
