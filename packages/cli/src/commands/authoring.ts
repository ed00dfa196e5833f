/** What builder create, buildpack package and extension package share: flags, where images go, the report. */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { AuthoredImage, AuthoringOptions, ImageReader, Output, PullPolicy } from "@cnbp/core";
import { formatProblem, UsageError } from "@cnbp/core/errors";
import { Option } from "commander";
import type { Io } from "../io.js";
import { builtinDriverDirs } from "./driver.js";
import { type DriverFlags, driverFlags } from "./driver-options.js";

export interface OutputFlags {
  publish?: boolean;
  output?: string;
  pullPolicy?: PullPolicy;
}

/** `--pull-policy`: how images are taken from the driver's store when the result goes there. */
export const pullPolicyOption = () =>
  new Option(
    "--pull-policy <policy>",
    "with the driver's image store as destination, how the build image and docker:// images are taken from it: always pull, pull if-not-present, or never pull (default: `pull-policy` in the config, else always); with --publish or --output they are read from their registries",
  ).choices(["always", "if-not-present", "never"]);

/**
 * `--publish`: the registry; `--output oci:<dir>`: an OCI layout; neither: the runtime driver's image store
 * (undefined here: the command saves through `saveToStore`).
 */
export async function outputOf(
  command: string,
  name: string,
  flags: OutputFlags,
): Promise<Output | undefined> {
  await checkName(name);
  if (flags.publish && flags.output) throw new UsageError(`${command}: give --publish or --output, not both`);
  if (flags.publish) return { kind: "registry", name };
  if (flags.output) {
    if (!flags.output.startsWith("oci:") || flags.output.length === 4) {
      throw new UsageError(`${command}: --output ${JSON.stringify(flags.output)} must be oci:<dir>`);
    }
    return { kind: "layout", dir: resolve(flags.output.slice(4)), name };
  }
  return undefined;
}

/** What saving into a driver's store brings: images read through it, and the platform its engine runs. */
export interface StoreSource {
  readonly images: ImageReader;
  /** The default platform there, where `--target` gives none. */
  readonly platform: NonNullable<AuthoringOptions["platform"]>;
}

/**
 * Authors the image into an OCI layout in cnbp's cache dir and imports it into the runtime driver's image
 * store under `name`; the layout is removed whatever happens. Images named by reference come from the store
 * too, pulled as `--pull-policy` says with the user's credentials for their registry (docker config, credential
 * helpers, CNB_REGISTRY_AUTH), and staged as layouts that are removed as well. The driver is opened
 * first, so a missing or broken one stops the command before any work.
 */
export async function saveToStore(
  name: string,
  flags: DriverFlags & OutputFlags,
  env: NodeJS.ProcessEnv,
  author: (output: Output, store: StoreSource) => Promise<AuthoredImage>,
): Promise<AuthoredImage> {
  const [{ openDriver }, { DockerKeychain, storeImageReader }] = await Promise.all([
    import("@cnbp/core/config"),
    import("@cnbp/core"),
  ]);
  const {
    driver,
    name: driverName,
    config,
  } = await openDriver({
    flags: driverFlags(flags),
    env,
    kind: "runtime",
    builtinPackageDirs: builtinDriverDirs(),
  });
  const root = cacheRoot(env);
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, "authored-"));
  try {
    const policy = flags.pullPolicy ?? config.values["pull-policy"] ?? "always";
    const keychain = new DockerKeychain({ env });
    const images = storeImageReader(driver.images, policy, join(dir, "sources"), driverName, keychain);
    const { os, arch } = await driver.info();
    const image = await author(
      { kind: "layout", dir: join(dir, "image"), name },
      {
        images,
        platform: { os, architecture: arch },
      },
    );
    await driver.images.importOciLayout(join(dir, "image"), { tag: name });
    return { ...image, destination: `${driverName}'s image store` };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await driver[Symbol.asyncDispose]();
  }
}

/** cnbp's cache dir: CNBP_CACHE_DIR, else the XDG cache dir's cnbp/. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  return env.CNBP_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cnbp");
}

export async function checkName(name: string): Promise<void> {
  const { parseReference } = await import("@cnbp/core/image");
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
export async function authoringOptions(
  env: NodeJS.ProcessEnv,
  target: string | undefined,
  store?: StoreSource,
): Promise<AuthoringOptions> {
  const { DockerKeychain, RegistryClient } = await import("@cnbp/core/image");
  const cache = cacheRoot(env);
  return {
    registry: new RegistryClient({ keychain: new DockerKeychain({ env }) }),
    cacheDir: join(cache, "layers"),
    // the driver's store: its engine's platform unless --target says otherwise
    platform: platformOf(target) ?? store?.platform,
    ...(store ? { images: store.images } : {}),
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
