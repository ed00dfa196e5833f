#!/usr/bin/env node
/**
 * The lifecycle's one entry point. The phase is the name it was started under (`/cnb/lifecycle/analyzer`),
 * or the first argument (`lifecycle analyzer ...`, also the Go verbs `analyze`, `detect`, ...).
 */
import { basename } from "node:path";
import { CnbpError } from "@cnbp/core";
import { ExitCode, LifecycleError } from "./exit-codes.js";
import { PHASES, phaseFor } from "./phases/index.js";
import { LIFECYCLE_VERSION } from "./version.js";

async function main(argv: readonly string[]): Promise<number> {
  let phase = phaseFor(basename(argv[1] ?? ""));
  let args = argv.slice(2);
  if (!phase) {
    phase = phaseFor(args[0] ?? "");
    args = args.slice(1);
  }
  if (!phase) {
    process.stderr.write(`usage: lifecycle <phase> [flags]: phases are ${Object.keys(PHASES).join(", ")}\n`);
    return ExitCode.invalidArgs;
  }
  if (args.includes("-version") || args.includes("--version")) {
    process.stdout.write(`${LIFECYCLE_VERSION}\n`);
    return ExitCode.ok;
  }
  try {
    await phase(args, process.env);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof LifecycleError) {
      process.stderr.write(`ERROR: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ERROR: ${message}\n`);
    if (!(err instanceof CnbpError) && process.env.CNB_LOG_LEVEL === "debug") {
      process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    }
    return ExitCode.failed;
  }
}

process.exitCode = await main(process.argv);
