import { createRequire } from "node:module";
import type { Output } from "@cnbp/core";
import { UsageError } from "@cnbp/core/errors";
import { Command } from "commander";
import type { Io } from "../io.js";
import {
  authoringOptions,
  collectLabel,
  type OutputFlags,
  outputOf,
  ownLifecycleTree,
  printAuthored,
  pullPolicyOption,
  type StoreSource,
  saveToStore,
} from "./authoring.js";
import { addDriverOptions, type DriverFlags } from "./driver-options.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

interface Options extends OutputFlags, DriverFlags {
  config: string;
  target?: string;
  label?: Record<string, string>;
  flatten?: boolean;
  flattenExclude?: string[];
  json?: boolean;
}

export function builderCreateCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("create")
    .description("Create a builder image from a builder.toml (build image, lifecycle, buildpacks, order)")
    .argument("<image>", "the builder's name, e.g. registry.example/builder:1")
    .requiredOption("-c, --config <path>", "the builder.toml")
    .option("--publish", "push the builder to its registry (default: the driver's image store)")
    .option("--output <oci:dir>", "write the builder into an OCI layout directory")
    .option(
      "--target <os/arch>",
      "the platform taken from multi-platform images, and the one builder made for the driver's image store when builder.toml has several [[targets]] (default: the engine's platform for the driver's image store, else linux/amd64)",
    )
    .option("--label <key=value>", "add a label to the builder (repeatable)", collectLabel)
    .option("--flatten", "put all buildpacks and extensions into one layer instead of one layer each")
    .option(
      "--flatten-exclude <id@version>",
      "keep this buildpack or extension in its own layer with --flatten (repeatable)",
      collectModuleKey,
    )
    .addOption(pullPolicyOption())
    .option("--json", "print the result as JSON on stdout")
    .addHelpText(
      "after",
      "\nWhen builder.toml has no [lifecycle], cnbp's own lifecycle goes in, so no download is needed.\nWith several [[targets]], --publish and --output make a builder per target under one image index.",
    );
  return addDriverOptions(command).action(async (name: string, opts: Options) => {
    const output = await outputOf("builder create", name, opts);
    if (opts.flattenExclude && !opts.flatten) {
      throw new UsageError("builder create: --flatten-exclude is only used with --flatten");
    }
    const { createBuilder } = await import("@cnbp/core");
    const author = async (to: Output, store?: StoreSource) =>
      createBuilder(
        {
          config: opts.config,
          output: to,
          defaultLifecycle: ownLifecycleTree(),
          labels: opts.label,
          ...(opts.flatten ? { flatten: { exclude: opts.flattenExclude ?? [] } } : {}),
          createdBy: { name: "cnbp", version },
          // the driver's image store holds one platform's builder per name
          onePlatform: store !== undefined,
        },
        await authoringOptions(env, opts.target, store),
      );
    const image = output ? await author(output) : await saveToStore(name, opts, env, author);
    printAuthored(io, "builder", image, opts.json);
  });
}

/** `--flatten-exclude <id>@<version>`, repeatable. */
function collectModuleKey(value: string, previous: string[] = []): string[] {
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1) {
    throw new UsageError(`--flatten-exclude ${JSON.stringify(value)} must be <id>@<version>`);
  }
  return [...previous, value];
}
