/** The options `builder inspect` and `buildpack inspect` share: the output format and the order depth. */
import { Command, InvalidArgumentError, Option } from "commander";

export interface InspectOptions {
  output: "human" | "json";
  depth?: number;
}

/** The command with the shared options; commander's usage errors are thrown for run() to exit 2 on. */
export function inspectCommand(name: string): Command {
  return new Command(name)
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
    .addHelpText(
      "after",
      "\nIMAGE is <registry>/<repository>[:<tag>|@<digest>], oci:<layout dir>[:<name>], or the path of an\n" +
        "oci-archive file (a .cnb buildpackage). Exits 1 when the image cannot be read or is not of this kind.",
    );
}

function parseDepth(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError("expected a whole number of levels (0 or more)");
  return Number(text);
}
