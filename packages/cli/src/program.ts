import { createRequire } from "node:module";
import type { LogLevel } from "@cnbp/core";
import { Command, Option } from "commander";
import { buildCommand } from "./commands/build.js";
import { builderCreateCommand } from "./commands/builder-create.js";
import { builderInspectCommand } from "./commands/builder-inspect.js";
import { buildpackInspectCommand } from "./commands/buildpack-inspect.js";
import { cacheCommands } from "./commands/cache.js";
import { configCommand } from "./commands/config.js";
import { driverCommands } from "./commands/driver.js";
import { inspectImageCommand } from "./commands/inspect-image.js";
import { packageCommand } from "./commands/package.js";
import { rebaseCommand } from "./commands/rebase.js";
import { validateCommand } from "./commands/validate.js";
import type { Io, Outcome } from "./io.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export function createProgram(io: Io, outcome: Outcome): Command {
  const program = new Command("cnbp")
    .description(
      "Build container images from source with Cloud Native Buildpacks, on the container engine you have.",
    )
    .version(version, "-v, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)")
    .addOption(
      new Option("--log-level <level>", "how much to log to stderr")
        .choices(["trace", "debug", "info", "warn", "error", "silent"])
        .env("CNBP_LOG_LEVEL")
        .default("warn"),
    );
  // commands get their run's container from the options the user gave; its modules load only when asked for
  const container = async () =>
    (await import("./compose.js")).compose({ logLevel: program.opts<{ logLevel: LogLevel }>().logLevel });
  program.addCommand(validateCommand(io, outcome, container));
  // command groups: authoring and inspection commands of one kind of image share a group
  // (added commands do not inherit exitOverride: without it a usage error in a group would exit 1, not 2)
  const ours = (command: Command) =>
    command
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const group = (name: string, description: string, commands: readonly Command[]) => {
    const g = ours(new Command(name).description(description));
    for (const c of commands) g.addCommand(ours(c));
    return g;
  };
  program.addCommand(ours(buildCommand(io)));
  program.addCommand(ours(rebaseCommand(io)));
  program.addCommand(ours(inspectImageCommand(io)));
  const builder = group("builder", "Create and inspect builder images", [
    builderCreateCommand(io),
    builderInspectCommand(io, container),
  ]);
  const buildpack = group("buildpack", "Package and inspect buildpacks", [
    packageCommand("buildpack", io),
    buildpackInspectCommand(io, container),
  ]);
  const extension = group("extension", "Package image extensions", [packageCommand("extension", io)]);
  program.addCommand(builder);
  program.addCommand(buildpack);
  program.addCommand(extension);
  program.addCommand(
    group("driver", "List, show, install and remove container engine drivers", driverCommands(io, outcome)),
  );
  program.addCommand(
    group("cache", "List and prune build caches (volumes and layout repositories)", cacheCommands(io)),
  );
  program.addCommand(configCommand(io));
  return program;
}
