/** `cnbp inspect <image>`: what an app image built by buildpacks holds, in the driver's store and its registry (pack inspect). */
import type { AppImageInspection, AppImageLookup, AppImageModule } from "@cnbp/core";
import { Command, Option } from "commander";
import type { Io } from "../io.js";
import { builtinDriverDirs } from "./driver.js";
import { addDriverOptions, type DriverFlags, driverFlags } from "./driver-options.js";
import { NONE, table } from "./inspect-text.js";

interface Options extends DriverFlags {
  output: "human" | "json";
  json?: boolean;
}

export function inspectImageCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("inspect")
    .alias("inspect-image")
    .description(
      "Show what an app image holds: its run image, buildpacks and processes, and whether it can be rebased",
    )
    .argument("<image>", "the app image, e.g. my-app or 127.0.0.1:5000/my-app:1")
    .addOption(
      new Option("-o, --output <format>", "how to print what is inside")
        .choices(["human", "json"])
        .default("human"),
    )
    .option("--json", "the same as --output json")
    .addHelpText(
      "after",
      "\nThe image is looked up in the driver's image store (LOCAL) and, when its name has a registry host, in\n" +
        "that registry (REMOTE). Exits 1 when neither has an app image of that name.",
    );
  return addDriverOptions(command).action(async (image: string, opts: Options) => {
    const { DockerKeychain, inspectAppImage, openDriver, RegistryClient } = await import("@cnbp/core");
    const opened = await openDriver({
      flags: driverFlags(opts),
      env,
      kind: "runtime",
      builtinPackageDirs: builtinDriverDirs(),
    });
    try {
      const inspection = await inspectAppImage(image, {
        store: { images: opened.driver.images, name: opened.name },
        registry: new RegistryClient({ keychain: new DockerKeychain({ env }) }),
      });
      const json = opts.json || opts.output === "json";
      io.stdout.write(json ? `${JSON.stringify(inspection, null, 2)}\n` : humanView(inspection));
    } finally {
      await opened.driver[Symbol.asyncDispose]();
    }
  });
}

function humanView(i: AppImageInspection): string {
  return [`Inspecting image: ${i.image}`, ...section("REMOTE", i.remote), ...section("LOCAL", i.local)]
    .join("\n\n")
    .concat("\n");
}

function section(title: string, side: AppImageLookup): string[] {
  switch (side.status) {
    case "skipped":
      return [`${title}:\n(not looked up: ${side.reason})`];
    case "absent":
      return [`${title} (${side.where}):\n(not present)`];
    case "failed":
      return [`${title} (${side.where}):\nerror: ${side.error.message}`];
    case "found":
      return foundSection(title, side);
  }
}

function foundSection(title: string, s: Extract<AppImageLookup, { status: "found" }>): string[] {
  const target = [s.target.os, s.target.arch, ...(s.target.variant ? [s.target.variant] : [])].join("/");
  const runImages = s.runImages.map((r) => [r.image, r.mirror ? "(mirror)" : ""]);
  const processes = s.processes.map((p) => [
    p.default ? `${p.type} (default)` : p.type,
    p.command.join(" "),
    p.args.join(" "),
    p.workingDir ?? "",
  ]);
  return [
    [
      `${title} (${s.where}):`,
      `Image ID: ${s.id}`,
      ...(s.digest ? [`Digest: ${s.digest}`] : []),
      `Target: ${target}`,
      ...(s.stackId ? [`Stack: ${s.stackId}`] : []),
    ].join("\n"),
    [
      "Base Image:",
      ...(s.base.reference ? [`  Reference: ${s.base.reference}`] : []),
      `  Top Layer: ${s.base.topLayer ?? NONE}`,
    ].join("\n"),
    ["Run Images:", ...(runImages.length ? table(runImages) : [`  ${NONE}`])].join("\n"),
    `Rebasable: ${s.rebasable}`,
    ["Buildpacks:", ...modules(s.buildpacks, "(buildpack metadata not present)")].join("\n"),
    ...(s.extensions.length ? [["Extensions:", ...modules(s.extensions, NONE)].join("\n")] : []),
    [
      "Processes:",
      ...(processes.length ? table([["TYPE", "COMMAND", "ARGS", "WORK DIR"], ...processes]) : [`  ${NONE}`]),
    ].join("\n"),
  ];
}

function modules(list: readonly AppImageModule[], none: string): string[] {
  if (list.length === 0) return [`  ${none}`];
  return table([["ID", "VERSION", "HOMEPAGE"], ...list.map((m) => [m.id, m.version, m.homepage ?? "-"])]);
}
