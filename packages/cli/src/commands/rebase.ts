/** `cnbp rebase <image>`: an app image put on a newer run image without rebuilding it (pack rebase). */
import { homedir } from "node:os";
import { join } from "node:path";
import type { OpenedDriver, PullPolicy, RebaseAppReport } from "@cnbp/core";
import { Command, Option } from "commander";
import type { Io } from "../io.js";
import { builtinDriverDirs } from "./driver.js";
import { addDriverOptions, type DriverFlags, driverFlags } from "./driver-options.js";

interface Options extends DriverFlags {
  runImage?: string;
  previousImage?: string;
  tag: string[];
  publish?: boolean;
  pullPolicy?: PullPolicy;
  force?: boolean;
  insecureRegistry: string[];
  json?: boolean;
}

const repeatable = (value: string, previous: string[]) => [...previous, value];

export function rebaseCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("rebase")
    .description("Put an app image on the newest (or another) run image, without rebuilding it")
    .argument("<image>", "the app image, e.g. my-app or 127.0.0.1:5000/my-app:1")
    .option("--run-image <image>", "the run image to rebase onto (default: the one the app image records)")
    .option(
      "--previous-image <image>",
      "the image to rebase, when it is not <image>: <image> then names the result, the previous one is left as it was",
    )
    .option("-t, --tag <image>", "another name for the rebased image (repeatable)", repeatable, [])
    .option(
      "--publish",
      "rebase in the registry <image> names (only a config and a manifest are pushed) instead of the driver's store",
    )
    .addOption(
      new Option(
        "--pull-policy <policy>",
        "when to pull the run image into the store (default: `pull-policy` in the config, else always); ignored with --publish",
      ).choices(["always", "if-not-present", "never"]),
    )
    .option(
      "--force",
      "rebase even an image marked not rebasable, or onto a run image of another target or one the image does not record",
    )
    .option(
      "--insecure-registry <host>",
      "a registry that may be reached over plain HTTP (repeatable)",
      repeatable,
      [],
    )
    .option("--json", "print a report as JSON");
  return addDriverOptions(command).action(async (image: string, opts: Options) => {
    const { DockerKeychain, openDriver, rebaseApp } = await import("@cnbp/core");
    // a rebase in a registry needs no container engine
    const opened: OpenedDriver<"runtime"> | undefined = opts.publish
      ? undefined
      : await openDriver({
          flags: driverFlags(opts),
          env,
          kind: "runtime",
          builtinPackageDirs: builtinDriverDirs(),
        });
    try {
      const report = await rebaseApp(opened?.driver, {
        image,
        ...(opts.previousImage ? { previousImage: opts.previousImage } : {}),
        ...(opts.runImage ? { runImage: opts.runImage } : {}),
        tags: opts.tag,
        publish: opts.publish ?? false,
        pullPolicy: opts.pullPolicy ?? opened?.config.values["pull-policy"] ?? "always",
        force: opts.force ?? false,
        insecureRegistries: opts.insecureRegistry,
        keychain: new DockerKeychain({ env }),
        cacheRoot: env.CNBP_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cnbp"),
      });
      for (const warning of report.warnings) io.stderr.write(`warning: ${warning}\n`);
      io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report, opened?.name));
    } finally {
      await opened?.driver[Symbol.asyncDispose]();
    }
  });
}

function summary(r: RebaseAppReport, driver: string | undefined): string {
  const where = r.published ? "pushed to its registry" : `in ${driver}'s image store`;
  return [
    `Rebased ${r.previousImage} on run image ${r.runImage.name} (${r.runImage.reference})`,
    `  ${r.layers.app} app layers kept, ${r.layers.runImage} run image layers; run image top layer ${r.previousTopLayer} -> ${r.runImage.topLayer}`,
    `Successfully rebased image ${[r.image, ...r.tags].join(", ")} (${r.published ? r.digest : r.id}), ${where}, in ${r.seconds.toFixed(2)} s`,
    "",
  ].join("\n");
}
