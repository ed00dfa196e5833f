/** The options `builder inspect` and `buildpack inspect` share: the output format, the order depth, the platform. */
import type { ReadImageOptions, StoreAccess } from "@cnbp/core";
import { Command, InvalidArgumentError, Option } from "commander";
import { builtinDriverDirs } from "./driver.js";
import { addDriverOptions, type DriverFlags, driverFlags } from "./driver-options.js";

export interface InspectOptions extends DriverFlags {
  output: "human" | "json";
  depth?: number;
  platform?: string;
}

/** Where and how the image is read: the user's registry credentials, the driver's store, the platform asked for. */
export async function readOptions(
  opts: InspectOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReadImageOptions> {
  const { DockerKeychain, parsePlatform, RegistryClient } = await import("@cnbp/core");
  return {
    registry: new RegistryClient({ keychain: new DockerKeychain({ env }) }),
    openStore: storeOf(opts, env),
    ...(opts.platform
      ? { platform: { platform: parsePlatform(opts.platform, "--platform"), asked: true } }
      : {}),
  };
}

/** Opens the runtime driver's image store, for an image named without a registry host. */
export function storeOf(opts: DriverFlags, env: NodeJS.ProcessEnv = process.env): () => Promise<StoreAccess> {
  return async () => {
    const { openDriver } = await import("@cnbp/core/config");
    const { driver, name } = await openDriver({
      flags: driverFlags(opts),
      env,
      kind: "runtime",
      builtinPackageDirs: builtinDriverDirs(),
    });
    return { images: driver.images, driver: name, close: () => driver[Symbol.asyncDispose]() };
  };
}

/** The command with the shared options; commander's usage errors are thrown for run() to exit 2 on. */
export function inspectCommand(name: string): Command {
  const command = new Command(name)
    .exitOverride()
    .addOption(
      new Option("-o, --output <format>", "how to print what is inside")
        .choices(["human", "json"])
        .default("human"),
    )
    .option(
      "-d, --depth <levels>",
      "how many levels of composite buildpacks to open in the detection order (default: all)",
      parseDepth,
    )
    .option(
      "--platform <os/arch[/variant]>",
      "of an image index, the image to show (default: this machine's platform, else the index's first)",
    )
    .addHelpText(
      "after",
      "\nIMAGE is <registry>/<repository>[:<tag>|@<digest>], oci:<layout dir>[:<name>], the path of an\n" +
        "oci-archive file (a .cnb buildpackage), or a name without a registry host, read from the driver's\n" +
        "image store. Of an image index, every image's target is listed and one image is shown.\n" +
        "Exits 1 when the image cannot be read, has no image for --platform, or is not of this kind.",
    );
  return addDriverOptions(command);
}

function parseDepth(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError("expected a whole number of levels (0 or more)");
  return Number(text);
}
