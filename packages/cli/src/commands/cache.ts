/**
 * `cnbp cache list|prune`: the cache volumes `cnbp build` keeps on a driver (labelled io.cnbp.cache=build) and
 * the layout repositories their images keep in the cache directory; prune removes them so none leak.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { BuildCache, PruneReport, PruneSelection, RuntimeDriver } from "@cnbp/core";
import { UsageError } from "@cnbp/core/errors";
import { Command } from "commander";
import type { Io } from "../io.js";
import { builtinDriverDirs } from "./driver.js";
import { addDriverOptions, type DriverFlags, driverFlags } from "./driver-options.js";

interface ListOptions extends DriverFlags {
  json?: boolean;
}

interface PruneOptions extends DriverFlags {
  all?: boolean;
  image?: string;
  olderThan?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function cacheCommands(io: Io, env: NodeJS.ProcessEnv = process.env): Command[] {
  // where cnbp build keeps layout repositories
  const cacheRoot = env.CNBP_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cnbp");
  const onDriver = async <T>(flags: DriverFlags, use: (driver: RuntimeDriver) => Promise<T>) => {
    const { openDriver } = await import("@cnbp/core/config");
    const opened = await openDriver({
      flags: driverFlags(flags),
      env,
      kind: "runtime",
      builtinPackageDirs: builtinDriverDirs(),
    });
    try {
      return await use(opened.driver);
    } finally {
      await opened.driver[Symbol.asyncDispose]();
    }
  };

  const list = new Command("list")
    .description("List build cache volumes with their image, app directory, age, size and layout repository")
    .option("--json", "print the caches as JSON");
  addDriverOptions(list).action(async (opts: ListOptions) => {
    const { listCaches } = await import("@cnbp/core");
    await onDriver(opts, async (driver) => {
      const caches = await listCaches(driver, cacheRoot);
      io.stdout.write(opts.json ? `${JSON.stringify(caches, null, 2)}\n` : listText(caches, driver.name));
    });
  });

  const prune = new Command("prune")
    .description(
      "Remove build cache volumes, and the layout repositories and extended images of images with no cache left",
    )
    .option("--all", "remove every cache")
    .option("--image <name>", "remove the caches of builds of this image")
    .option("--older-than <duration>", "remove caches created longer ago than this, e.g. 12h, 7d or 2w")
    .option("--dry-run", "say what would be removed, remove nothing")
    .option("--json", "print what was removed as JSON");
  addDriverOptions(prune).action(async (opts: PruneOptions) => {
    const { pruneCaches } = await import("@cnbp/core");
    const selection = await pruneSelection(opts);
    await onDriver(opts, async (driver) => {
      const report = await pruneCaches(driver, { selection, cacheRoot, dryRun: opts.dryRun ?? false });
      io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : pruneText(report));
    });
  });

  return [list, prune];
}

async function pruneSelection(opts: PruneOptions): Promise<PruneSelection> {
  const { InvalidReferenceError, parseDuration, parseReference } = await import("@cnbp/core");
  if (opts.all) {
    if (opts.image !== undefined || opts.olderThan !== undefined)
      throw new UsageError("cache prune: --all removes every cache, so it goes alone", {
        hints: ["drop --all to choose caches with --image and --older-than"],
      });
    return { all: true };
  }
  if (opts.image === undefined && opts.olderThan === undefined)
    throw new UsageError("cache prune: say which caches to remove", {
      hints: [
        "give --all, --image <name> or --older-than <duration> (e.g. 7d); --dry-run shows what would go",
      ],
    });
  if (opts.image !== undefined)
    try {
      parseReference(opts.image);
    } catch (err) {
      if (err instanceof InvalidReferenceError) throw new UsageError(`cache prune: --image ${err.message}`);
      throw err;
    }
  let olderThanMs: number | undefined;
  if (opts.olderThan !== undefined) {
    olderThanMs = parseDuration(opts.olderThan);
    if (olderThanMs === undefined)
      throw new UsageError(`cache prune: --older-than ${JSON.stringify(opts.olderThan)} is not a duration`, {
        hints: ["give a whole number and one unit of s, m, h, d or w, e.g. 12h or 7d"],
      });
  }
  return {
    ...(opts.image !== undefined ? { image: opts.image } : {}),
    ...(olderThanMs !== undefined ? { olderThanMs } : {}),
  };
}

function listText(caches: readonly BuildCache[], driver: string): string {
  if (caches.length === 0) return `No build caches on ${driver}.\n`;
  const blocks = caches.map((c) => {
    const lines = [
      c.volume,
      `  image:    ${c.image ?? "(not labelled)"}`,
      `  app:      ${c.appDir ?? "(not labelled)"}`,
      `  created:  ${c.createdAt ? when(c.createdAt) : "(unknown)"}`,
      `  size:     ${c.sizeBytes !== undefined ? bytes(c.sizeBytes) : `(${driver} does not report it)`}`,
      `  layouts:  ${c.layoutRepo ? `${c.layoutRepo.dir} (${bytes(c.layoutRepo.sizeBytes)})` : "(none)"}`,
    ];
    if (c.inUse) lines.push("  in use:   yes, by a container (a build may be running on it)");
    return `${lines.join("\n")}\n`;
  });
  // caches of one image share its layout repository: count it once
  const repos = new Map(
    caches.flatMap((c) => (c.layoutRepo ? [[c.layoutRepo.dir, c.layoutRepo.sizeBytes]] : [])),
  );
  const repoBytes = [...repos.values()].reduce((a, b) => a + b, 0);
  const count = caches.length === 1 ? "1 cache" : `${caches.length} caches`;
  return `${blocks.join("\n")}\n${count} on ${driver}, layout repositories ${bytes(repoBytes)} on disk\n`;
}

function pruneText(r: PruneReport): string {
  const verb = r.dryRun ? "Would remove" : "Removed";
  const lines = [
    ...r.removed.map(
      (c) =>
        `${verb} cache volume ${c.volume} (${c.image ?? "no image label"}, ${c.appDir ?? "no app label"})`,
    ),
    ...r.layoutRepos.map((l) => `${verb} layout repository ${l.dir} (${bytes(l.sizeBytes)})`),
    ...r.extendedImages.map((tag) => `${verb} extended image ${tag}`),
    ...r.inUse.map(
      (c) => `Kept cache volume ${c.volume}: a container uses it (a build may be running on it)`,
    ),
  ];
  const freed = bytes(r.layoutRepos.reduce((sum, l) => sum + l.sizeBytes, 0));
  const volumes = r.removed.length === 1 ? "1 cache volume" : `${r.removed.length} cache volumes`;
  const repos =
    r.layoutRepos.length === 1 ? "1 layout repository" : `${r.layoutRepos.length} layout repositories`;
  const total =
    r.removed.length === 0 && r.inUse.length === 0
      ? "No cache matched: nothing to remove."
      : `${verb} ${volumes} and ${repos} (${freed} on disk)${r.dryRun ? "; nothing was removed (--dry-run)" : ""}.`;
  return `${[...lines, total].join("\n")}\n`;
}

/** `2026-11-29 21:48:53 UTC`. */
function when(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Bytes in SI units, as engines print them: `512 B`, `12.3 kB`, `4.1 GB`. */
function bytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
