import { createRequire } from "node:module";
import { createBuilder } from "@cnbp/core";
import { Command } from "commander";
import type { Io } from "../io.js";
import {
  authoringOptions,
  collectLabel,
  type OutputFlags,
  outputOf,
  ownLifecycleTree,
  printAuthored,
} from "./authoring.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

interface Options extends OutputFlags {
  config: string;
  target?: string;
  label?: Record<string, string>;
  json?: boolean;
}

export function builderCreateCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("create")
    .description("Create a builder image from a builder.toml (build image, lifecycle, buildpacks, order)")
    .argument("<image>", "the builder's name, e.g. registry.example/builder:1")
    .requiredOption("-c, --config <path>", "the builder.toml")
    .option("--publish", "push the builder to its registry")
    .option("--output <oci:dir>", "write the builder into an OCI layout directory")
    .option("--target <os/arch>", "the platform taken from multi-platform images (default linux/amd64)")
    .option("--label <key=value>", "add a label to the builder (repeatable)", collectLabel)
    .option("--json", "print the result as JSON on stdout")
    .addHelpText(
      "after",
      "\nWhen builder.toml has no [lifecycle], cnbp's own lifecycle goes in, so no download is needed.",
    )
    .action(async (name: string, opts: Options) => {
      const output = outputOf("builder create", name, opts);
      const image = await createBuilder(
        {
          config: opts.config,
          output,
          defaultLifecycle: ownLifecycleTree(),
          labels: opts.label,
          createdBy: { name: "cnbp", version },
        },
        authoringOptions(env, opts.target),
      );
      printAuthored(io, "builder", image, opts.json);
    });
}
