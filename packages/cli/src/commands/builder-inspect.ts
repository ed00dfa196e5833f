import type { BuilderInfo, DependencyContainer } from "@cnbp/core";
import type { Command } from "commander";
import type { Io } from "../io.js";
import { type InspectOptions, inspectCommand, readOptions } from "./inspect-options.js";
import { indexSection, moduleTable, NONE, orderTree, table, targetText } from "./inspect-text.js";

/** `cnbp builder inspect <image>`: what a builder holds, read from its labels. */
export function builderInspectCommand(io: Io, container: () => Promise<DependencyContainer>): Command {
  return inspectCommand("inspect")
    .description(
      "Show what a builder holds: lifecycle and its APIs, run images, buildpacks, extensions and detection order",
    )
    .argument("<image>", "the builder image")
    .action(async (image: string, opts: InspectOptions) => {
      const { builderInfo, LOGGER, readImageConfig, resolve } = await import("@cnbp/core");
      resolve(await container(), LOGGER)
        .child({ command: "builder inspect" })
        .debug({ image }, "inspecting");
      const info = builderInfo(await readImageConfig(image, await readOptions(opts)), { depth: opts.depth });
      io.stdout.write(opts.output === "json" ? `${JSON.stringify(info, null, 2)}\n` : humanView(info));
    });
}

function humanView(b: BuilderInfo): string {
  const apis = (label: string, a: BuilderInfo["lifecycle"]["buildpackApis"]) => [
    `  ${label}:`,
    `    Deprecated: ${a.deprecated.join(", ") || NONE}`,
    `    Supported: ${a.supported.join(", ") || NONE}`,
  ];
  const runImages = b.runImages.flatMap((r) => [[r.image, ""], ...r.mirrors.map((m) => [m, "(mirror)"])]);
  const sections = [
    [`Inspecting builder: ${b.image}`],
    ...indexSection(b.index),
    ...(b.description ? [[`Description: ${b.description}`]] : []),
    ...(b.createdBy.name
      ? [["Created By:", `  Name: ${b.createdBy.name}`, `  Version: ${b.createdBy.version || NONE}`]]
      : []),
    ...(b.stackId ? [["Stack:", `  ID: ${b.stackId}`]] : []),
    ["Target:", `  ${targetText(b.target)}`],
    [
      "Lifecycle:",
      `  Version: ${b.lifecycle.version || NONE}`,
      ...apis("Buildpack APIs", b.lifecycle.buildpackApis),
      ...apis("Platform APIs", b.lifecycle.platformApis),
    ],
    ["Run Images:", ...(runImages.length ? table(runImages) : [`  ${NONE}`])],
    ["Buildpacks:", ...moduleTable(b.buildpacks)],
    ["Detection Order:", ...orderTree(b.detectionOrder)],
    ...(b.extensions.length || b.extensionOrder.length
      ? [
          ["Extensions:", ...moduleTable(b.extensions)],
          ["Detection Order (Extensions):", ...orderTree(b.extensionOrder)],
        ]
      : []),
  ];
  return `${sections.map((s) => s.join("\n")).join("\n\n")}\n`;
}
