import { createRequire } from "node:module";
import { Command } from "commander";
import { validateCommand } from "./commands/validate.js";
import type { Io, Outcome } from "./io.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export function createProgram(io: Io, outcome: Outcome): Command {
  const program = new Command("cnbp")
    .description("Build container images from source with Cloud Native Buildpacks, on the container engine you have.")
    .version(version, "-v, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)");
  program.addCommand(validateCommand(io, outcome));
  return program;
}
