import type { AnyFileKind, DependencyContainer, FileReport } from "@cnbp/core";
import { formatProblem } from "@cnbp/core/errors";
import { Command } from "commander";
import { EXIT, type Io, type Outcome } from "../io.js";

export function validateCommand(
  io: Io,
  outcome: Outcome,
  container: () => Promise<DependencyContainer>,
): Command {
  return new Command("validate")
    .description(
      "Validate CNB files (buildpack.toml, builder.toml, project.toml, analyzed.toml, ...) against the spec",
    )
    .argument("[paths...]", "files, or directories to search for files with a CNB file name")
    .option(
      "--kind <kind>",
      "validate every file as this kind (for files whose name does not say, e.g. <layer>.toml)",
    )
    .option("--buildpack-api <version>", "Buildpack API to check buildpack-written files against", "0.12")
    .option("--platform-api <version>", "Platform API to check platform and lifecycle files against", "0.15")
    .option("--json", "print the result as JSON on stdout")
    .option("--list-kinds", "list the kinds of file cnbp validates")
    .addHelpText("after", "\nExits 1 at the first invalid file, after printing every problem in it.")
    .action(async (paths: string[], opts: Options, cmd: Command) => {
      const { ALL_KINDS, LOGGER, resolve, validatePaths } = await import("@cnbp/core");
      if (opts.listKinds) return listKinds(io, ALL_KINDS, opts.json);
      if (paths.length === 0)
        cmd.error("error: give at least one file or directory to validate", { exitCode: 2 });
      const log = resolve(await container(), LOGGER).child({ command: "validate" });
      log.debug({ paths, kind: opts.kind }, "validating");
      const reports = await validatePaths(paths, {
        kind: opts.kind,
        ctx: { buildpackApi: opts.buildpackApi, platformApi: opts.platformApi },
        stopAtFirstInvalid: true,
      });
      if (opts.json) io.stdout.write(`${JSON.stringify({ files: reports }, null, 2)}\n`);
      else for (const report of reports) printReport(io, report);
      if (reports.some((r) => !r.valid)) outcome.exitCode = EXIT.failure;
    });
}

interface Options {
  kind?: string;
  buildpackApi: string;
  platformApi: string;
  json?: boolean;
  listKinds?: boolean;
}

function printReport(io: Io, report: FileReport): void {
  if (report.valid) io.stdout.write(`ok ${report.file} (${report.kind})\n`);
  for (const problem of report.problems) io.stderr.write(`${formatProblem(problem)}\n`);
}

function listKinds(io: Io, all: readonly AnyFileKind[], json: boolean | undefined): void {
  const kinds = all.map((k) => ({
    kind: k.name,
    format: k.format,
    fileNames: k.fileNames,
    summary: k.summary,
  }));
  if (json) io.stdout.write(`${JSON.stringify(kinds, null, 2)}\n`);
  else for (const k of kinds) io.stdout.write(`${k.kind.padEnd(40)} ${k.summary}\n`);
}
