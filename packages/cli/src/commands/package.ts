/**
 * `cnbp buildpack package` and `cnbp extension package`: a package.toml made into a buildpackage, pushed to a
 * registry (`--publish`), written into an OCI layout (`--output oci:<dir>`) or written as a `.cnb` file
 * (`--format file`, or a name ending in .cnb). Like pack, a file name without an extension gets `.cnb`.
 */
import { stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import type { ModuleKind, Output } from "@cnbp/core";
import { UsageError } from "@cnbp/core/errors";
import { Command, Option } from "commander";
import type { Io } from "../io.js";
import {
  authoringOptions,
  collectLabel,
  type OutputFlags,
  outputOf,
  printAuthored,
  pullPolicyOption,
  type StoreSource,
  saveToStore,
} from "./authoring.js";
import { addDriverOptions, type DriverFlags } from "./driver-options.js";

const CNB = ".cnb";

interface Options extends OutputFlags, DriverFlags {
  config: string;
  format?: "image" | "file";
  target?: string;
  label?: Record<string, string>;
  json?: boolean;
}

export function packageCommand(kind: ModuleKind, io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const command = `${kind} package`;
  const cmd = new Command("package")
    .description(
      kind === "buildpack"
        ? "Package a buildpack and its dependencies as a buildpackage: an image or a .cnb file"
        : "Package an image extension as a buildpackage: an image or a .cnb file",
    )
    .argument(
      "<name>",
      `the package's image name, e.g. registry.example/my-${kind}:1, or a file, my-${kind}.cnb`,
    )
    .requiredOption("-c, --config <path>", "the package.toml")
    .addOption(
      new Option(
        "-f, --format <format>",
        "an image, or a .cnb file (default: file when <name> ends in .cnb)",
      ).choices(["image", "file"]),
    )
    .option("--publish", "push the image to its registry (--format image; default: the driver's image store)")
    .option("--output <oci:dir>", "write the image into an OCI layout directory (--format image)")
    .option(
      "--target <os/arch>",
      "the platform packaged for and taken from multi-platform images (default: the engine's platform for the driver's image store, else linux/amd64)",
    )
    .option("--label <key=value>", "add a label to the package (repeatable)", collectLabel)
    .addOption(pullPolicyOption())
    .option("--json", "print the result as JSON on stdout");
  return addDriverOptions(cmd).action(async (name: string, opts: Options) => {
    const output = await packageOutput(command, name, opts, io);
    const { createPackage } = await import("@cnbp/core");
    const author = async (to: Output, store?: StoreSource) =>
      createPackage(
        { kind, config: opts.config, output: to, labels: opts.label },
        await authoringOptions(env, opts.target, store),
      );
    const image = output ? await author(output) : await saveToStore(name, opts, env, author);
    printAuthored(io, kind === "buildpack" ? "buildpackage" : "extension package", image, opts.json);
  });
}

/** Where the package goes; undefined: the driver's image store. */
async function packageOutput(
  command: string,
  name: string,
  opts: Options,
  io: Io,
): Promise<Output | undefined> {
  const format = opts.format ?? (extname(name) === CNB ? "file" : "image");
  if (format === "image") return outputOf(command, name, opts);
  if (opts.publish || opts.output) {
    throw new UsageError(
      `${command}: ${opts.publish ? "--publish" : "--output"} is for images, not --format file: the file goes where <name> says`,
    );
  }
  const ext = extname(name);
  const file = resolve(ext === "" ? `${name}${CNB}` : name);
  if (ext !== "" && ext !== CNB) {
    io.stderr.write(`warning: ${JSON.stringify(ext)} is not the extension of a buildpackage file (${CNB})\n`);
  }
  const dir = dirname(file);
  if (
    !(await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new UsageError(`${command}: cannot write ${file}: ${dir} is not a directory`);
  }
  return { kind: "archive", file, name: file };
}
