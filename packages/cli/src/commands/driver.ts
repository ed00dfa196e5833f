/**
 * `cnbp driver list` and `cnbp driver info <name>`: the drivers discovery finds, without running any;
 * `cnbp driver install <spec>` and `cnbp driver remove <name>`: driver packages in the user's plugin folder.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  Discovery,
  DriverDiscovery,
  FoundDriver,
  InstalledPackage,
  PluginInstaller,
  PluginSource,
  RemovedPackage,
} from "@cnbp/core";
import { CnbpError, UsageError } from "@cnbp/core/errors";
import { Command } from "commander";
import { EXIT, type Io, type Outcome } from "../io.js";

const BUILTIN_PACKAGES = [
  "@cnbp/driver-docker",
  "@cnbp/driver-podman",
  "@cnbp/driver-buildah",
  "@cnbp/driver-k8s",
] as const;

/** The built-in driver packages' directories, as this installation resolves them (skipping absent ones). */
export function builtinDriverDirs(): string[] {
  return BUILTIN_PACKAGES.flatMap((name) => {
    let dir: string;
    try {
      dir = dirname(fileURLToPath(import.meta.resolve(name)));
    } catch {
      return [];
    }
    while (!existsSync(join(dir, "package.json"))) {
      const up = dirname(dir);
      if (up === dir) return [];
      dir = up;
    }
    return [dir];
  });
}

export function driverCommands(
  io: Io,
  outcome: Outcome,
  discovery: () => Promise<DriverDiscovery> = async () =>
    new (await import("@cnbp/core")).DriverDiscovery(builtinDriverDirs()),
  installer: () => Promise<PluginInstaller> = async () =>
    new (await import("@cnbp/core")).PluginInstaller({ builtinPackageDirs: builtinDriverDirs() }),
): Command[] {
  const list = new Command("list")
    .description("List the drivers cnbp finds: built-in, in the plugin folder and on CNBP_PLUGIN_PATH")
    .option("--json", "print the result as JSON on stdout")
    .action(async (opts: { json?: boolean }) => {
      const found = await (await discovery()).discover();
      if (opts.json) return void io.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
      printProblems(io, found);
      if (found.drivers.length === 0) return void io.stdout.write("no drivers found\n");
      io.stdout.write(table(found.drivers));
    });
  const info = new Command("info")
    .description("Show one driver: where it comes from, whether it works, and the options it takes")
    .argument("<name>", "the driver's name, as `cnbp driver list` shows it")
    .option("--json", "print the result as JSON on stdout")
    .action(async (name: string, opts: { json?: boolean }) => {
      const drivers = await discovery();
      const found = await drivers.discover();
      const { findDriver } = await import("@cnbp/core");
      const driver = findDriver(found, name);
      if (!driver) throw notFound(name, found, drivers.sources());
      const details = await describe(driver);
      if (details.status !== "ok") outcome.exitCode = EXIT.failure;
      if (opts.json) return void io.stdout.write(`${JSON.stringify(details, null, 2)}\n`);
      io.stdout.write(infoText(details));
    });
  const install = new Command("install")
    .description("Install a driver package into the plugin folder, from npm, a directory or a .tgz file")
    .argument("<spec>", "an npm package (name, name@version), a directory or a .tgz file made by `npm pack`")
    .option("--registry <url>", "the npm registry to install from (npm's own setting when absent)")
    .option("--json", "print the result as JSON on stdout")
    .addHelpText(
      "after",
      "\nDrivers are code that runs as you: cnbp uses only what you install with this command (or name in" +
        "\nCNBP_PLUGIN_PATH), never a node_modules of the current directory. npm runs with --ignore-scripts, so" +
        "\nno install script of the package or its dependencies runs. The package's package.json must declare" +
        "\nits drivers in a `cnbp` manifest; a package whose manifest is missing or invalid is refused and the" +
        "\nplugin folder is left as it was.\n",
    )
    .action(async (spec: string, opts: { registry?: string; json?: boolean }) => {
      if (opts.registry !== undefined) checkRegistry(opts.registry);
      const installed = await (await installer()).install(
        spec,
        opts.registry ? { registry: opts.registry } : {},
      );
      if (opts.json) return void io.stdout.write(`${JSON.stringify(installed, null, 2)}\n`);
      io.stdout.write(installedText(installed));
    });
  const remove = new Command("remove")
    .description("Remove an installed driver package from the plugin folder")
    .argument("<name>", "a driver's name, as `cnbp driver list` shows it, or its package's name")
    .option("--json", "print the result as JSON on stdout")
    .action(async (name: string, opts: { json?: boolean }) => {
      const removed = await (await installer()).remove(name);
      if (opts.json) return void io.stdout.write(`${JSON.stringify(removed, null, 2)}\n`);
      io.stdout.write(removedText(removed));
    });
  return [list, info, install, remove];
}

function checkRegistry(registry: string): void {
  const url = URL.canParse(registry) ? new URL(registry) : undefined;
  if (url?.protocol !== "http:" && url?.protocol !== "https:")
    throw new UsageError(`--registry ${JSON.stringify(registry)} is not an http or https URL`, {
      hints: ["for example --registry http://127.0.0.1:4873"],
    });
}

const providing = (drivers: readonly string[]) => `providing driver(s): ${drivers.join(", ")}`;

function installedText(p: InstalledPackage): string {
  const hash = p.integrity ?? "no integrity hash: installed from a directory";
  const from = p.resolved ? `  from ${p.resolved}\n` : "";
  return `installed ${p.package}@${p.version} (${hash}) ${providing(p.drivers)}\n${from}`;
}

function removedText(p: RemovedPackage): string {
  return `removed ${p.package}@${p.version} ${providing(p.drivers)}\n`;
}

type Details = FoundDriver & { readonly options: unknown };

/** What list shows, plus the options schema; a module that does not load makes the driver broken. */
async function describe(driver: FoundDriver): Promise<Details> {
  if (driver.status !== "ok") return { ...driver, options: null };
  const { importDriver, optionsJsonSchema } = await import("@cnbp/core");
  try {
    const imported = await importDriver(driver);
    return {
      ...driver,
      options: imported.optionsSchema ? optionsJsonSchema(imported.optionsSchema) : null,
    };
  } catch (err) {
    if (!(err instanceof CnbpError)) throw err;
    return { ...driver, status: "broken", reason: err.message, options: null };
  }
}

function notFound(name: string, found: Discovery, sources: readonly PluginSource[]): CnbpError {
  const user = sources.find((s) => s.kind === "user")?.paths.join(", ");
  const names = [...new Set(found.drivers.map((d) => d.name))];
  return new CnbpError("CNBP_DRIVER_NOT_FOUND", `no driver named ${JSON.stringify(name)}`, {
    hints: [
      names.length > 0 ? `drivers found: ${names.join(", ")}` : "no drivers found",
      `drivers are looked for in the built-in packages, ${user} and the CNBP_PLUGIN_PATH entries`,
    ],
  });
}

const status = (d: FoundDriver) => (d.status === "ok" ? "ok" : `broken: ${d.reason}`);
const kinds = (d: FoundDriver) => (d.kinds.length > 0 ? d.kinds.join(",") : "-");

function table(drivers: readonly FoundDriver[]): string {
  const rows = [
    ["NAME", "KINDS", "PACKAGE", "VERSION", "SOURCE", "STATUS"],
    ...drivers.map((d) => [d.name, kinds(d), d.package, d.version || "-", d.source, status(d)]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

function infoText(d: Details): string {
  const lines: [string, string][] = [
    ["name", d.name],
    ["kinds", kinds(d)],
    ["package", d.package],
    ["version", d.version || "-"],
    ["source", d.source],
    ["directory", d.dir],
    ["module", d.module ?? "-"],
    ["status", status(d)],
    ["options", d.options === null ? "none" : JSON.stringify(d.options, null, 2)],
  ];
  return lines.map(([k, v]) => `${`${k}:`.padEnd(11)}${v}\n`).join("");
}

function printProblems(io: Io, found: Discovery): void {
  for (const p of found.problems) io.stderr.write(`warning: ${p.source}: ${p.path}: ${p.reason}\n`);
}
