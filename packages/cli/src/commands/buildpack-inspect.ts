import type { BuildpackageInfo, DependencyContainer } from "@cnbp/core";
import type { Command } from "commander";
import type { Io } from "../io.js";
import { type InspectOptions, inspectCommand, readOptions } from "./inspect-options.js";
import { indexSection, moduleTable, NONE, orderTree, targetText } from "./inspect-text.js";

/** `cnbp buildpack inspect <image|file>`: what a buildpackage holds, read from its labels. */
export function buildpackInspectCommand(io: Io, container: () => Promise<DependencyContainer>): Command {
  return inspectCommand("inspect")
    .description(
      "Show what a buildpackage holds: its buildpack, targets, the buildpacks packaged and detection order",
    )
    .argument("<image>", "the buildpackage: an image, an OCI layout or a .cnb file")
    .action(async (image: string, opts: InspectOptions) => {
      const { buildpackageInfo, LOGGER, readImageConfig, resolve } = await import("@cnbp/core");
      resolve(await container(), LOGGER)
        .child({ command: "buildpack inspect" })
        .debug({ image }, "inspecting");
      const info = buildpackageInfo(await readImageConfig(image, await readOptions(opts)), {
        depth: opts.depth,
      });
      io.stdout.write(opts.output === "json" ? `${JSON.stringify(info, null, 2)}\n` : humanView(info));
    });
}

function humanView(p: BuildpackageInfo): string {
  const optional = (label: string, value: string | undefined) => (value ? [`${label}: ${value}`] : []);
  const sections = [
    [`Inspecting ${p.kind}: ${p.image}`],
    ...indexSection(p.index),
    [
      `ID: ${p.id}`,
      `Version: ${p.version}`,
      ...optional("Name", p.name),
      ...optional("Homepage", p.homepage),
      ...optional("Description", p.description),
    ],
    ["Targets:", ...(p.targets.length ? p.targets.map((t) => `  ${targetText(t)}`) : [`  ${NONE}`])],
    ...(p.stacks.length
      ? [
          [
            "Stacks:",
            ...p.stacks.map((s) => `  ${s.id}${s.mixins.length ? ` (mixins: ${s.mixins.join(", ")})` : ""}`),
          ],
        ]
      : []),
    [p.kind === "extension" ? "Extensions:" : "Buildpacks:", ...moduleTable(p.modules)],
    ["Detection Order:", ...orderTree(p.detectionOrder)],
  ];
  return `${sections.map((s) => s.join("\n")).join("\n\n")}\n`;
}
