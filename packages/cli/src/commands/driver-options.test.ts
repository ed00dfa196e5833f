import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addDriverOptions, type DriverFlags, driverFlags } from "./driver-options.js";

const parse = (args: string[]) => {
  let flags: DriverFlags | undefined;
  const command = addDriverOptions(new Command("build")).action((opts: DriverFlags) => {
    flags = opts;
  });
  command.parse(args, { from: "user" });
  return driverFlags(flags as DriverFlags);
};

describe("addDriverOptions", () => {
  it("takes --driver once and --driver-opt as often as given, in order", () => {
    expect(
      parse(["--driver", "podman", "--driver-opt", "bin=/usr/bin/podman", "--driver-opt=skopeo=skopeo"]),
    ).toEqual({
      driver: "podman",
      driverOpts: ["bin=/usr/bin/podman", "skopeo=skopeo"],
    });
    expect(parse([])).toEqual({ driverOpts: [] });
  });
});
