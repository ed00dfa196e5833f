/** What builder create, buildpack package and extension package share: flags, where images go, the report. */
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  type AuthoredImage,
  type AuthoringOptions,
  DockerKeychain,
  formatProblem,
  type Output,
  parseReference,
  RegistryClient,
  UsageError,
} from "@cnbp/core";
import type { Io } from "../io.js";

export interface OutputFlags {
  publish?: boolean;
  output?: string;
}

/**
 * `--publish`: the registry; `--output oci:<dir>`: an OCI layout. Without either there is nowhere to put the
 * image until the engine drivers exist, so it is a usage error that says so.
 */
export function outputOf(command: string, name: string, flags: OutputFlags): Output {
  checkName(name);
  if (flags.publish && flags.output) throw new UsageError(`${command}: give --publish or --output, not both`);
  if (flags.publish) return { kind: "registry", name };
  if (flags.output) {
    if (!flags.output.startsWith("oci:") || flags.output.length === 4) {
      throw new UsageError(`${command}: --output ${JSON.stringify(flags.output)} must be oci:<dir>`);
    }
    return { kind: "layout", dir: resolve(flags.output.slice(4)), name };
  }
  throw new UsageError(
    `${command}: give --publish (push ${name} to its registry) or --output oci:<dir> (write an OCI layout)`,
    {
      hints: [
        "saving into a container engine's image store needs an engine driver, which cnbp does not have yet",
      ],
    },
  );
}

export function checkName(name: string): void {
  try {
    parseReference(name);
  } catch (err) {
    throw new UsageError(`${JSON.stringify(name)} is not a valid image name: ${(err as Error).message}`);
  }
}

/** `--target os/arch[/variant]`. */
export function platformOf(target: string | undefined): AuthoringOptions["platform"] {
  if (target === undefined) return undefined;
  const [os, architecture, variant, ...rest] = target.split("/");
  if (!os || !architecture || rest.length) {
    throw new UsageError(`--target ${JSON.stringify(target)} must be os/arch or os/arch/variant`);
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** `--label k=v`, repeatable. */
export function collectLabel(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new UsageError(`--label ${JSON.stringify(value)} must be key=value`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Layers made from directories are cached under CNBP_CACHE_DIR (else the XDG cache dir) in layers/. */
export function authoringOptions(env: NodeJS.ProcessEnv, target: string | undefined): AuthoringOptions {
  const cache = env.CNBP_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cnbp");
  return {
    registry: new RegistryClient({ keychain: new DockerKeychain({ env }) }),
    cacheDir: join(cache, "layers"),
    platform: platformOf(target),
  };
}

/** cnbp's own /cnb/lifecycle tree, built beside the lifecycle package's code. */
export function ownLifecycleTree(): string {
  return join(dirname(createRequire(import.meta.url).resolve("@cnbp/lifecycle")), "cnb-lifecycle");
}

export function printAuthored(io: Io, what: string, image: AuthoredImage, json: boolean | undefined): void {
  for (const w of image.warnings) io.stderr.write(`${formatProblem(w)}\n`);
  if (json) {
    io.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
    return;
  }
  for (const l of image.layers) {
    io.stdout.write(`${l.how.padEnd(8)} ${l.digest.slice(7, 19)} ${String(l.size).padStart(10)} ${l.what}\n`);
  }
  io.stdout.write(
    `${what} ${image.name} written to ${image.destination} (${image.digest}), ${image.bytesWritten} bytes sent\n`,
  );
}
