/** `cnbp build <image>`: an app built with buildpacks on a runtime driver (DESIGN.md "The build"). */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { BindMount, BuildReport, NetworkMode, PullPolicy } from "@cnbp/core";
import { UsageError } from "@cnbp/core/errors";
import { Command, Option } from "commander";
import type { Io } from "../io.js";
import { builtinDriverDirs } from "./driver.js";
import { addDriverOptions, type DriverFlags, driverFlags } from "./driver-options.js";

interface Options extends DriverFlags {
  path: string;
  builder?: string;
  runImage?: string;
  tag: string[];
  publish?: boolean;
  trustBuilder?: boolean;
  buildpack: string[];
  extension: string[];
  pullPolicy?: PullPolicy;
  env: string[];
  envFile: string[];
  network?: NetworkMode;
  volume: string[];
  clearCache?: boolean;
  cache?: string;
  cacheImage?: string;
  defaultProcess?: string;
  descriptor?: string;
  insecureRegistry: string[];
  extendDriver?: string;
  lifecycleImage?: string;
  workspace?: string;
  platform?: string;
  json?: boolean;
}

const repeatable = (value: string, previous: string[]) => [...previous, value];

export function buildCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const command = new Command("build")
    .description("Build an app image from source with a builder's buildpacks")
    .argument("<image>", "the image to make, e.g. my-app or registry.example/my-app:1")
    .option("-p, --path <dir>", "the app's source directory", ".")
    .option(
      "-B, --builder <image>",
      "the builder (default: project.toml's, else `default-builder` in the config)",
    )
    .option("--run-image <image>", "the run image (default: the builder's)")
    .option(
      "--lifecycle-image <image>",
      "run the phases that get registry credentials (analyze, restore, export) in this image's /cnb/lifecycle, not the builder's",
    )
    .option("--workspace <dir>", "where the phases see the app (default: /workspace)")
    .option(
      "--platform <os/arch>",
      "the platform of the builder and run image to pull (default: the engine's)",
    )
    .option("-t, --tag <image>", "another name for the image (repeatable)", repeatable, [])
    .option("--publish", "push the image to its registry instead of the driver's image store")
    .option("--trust-builder", "run all phases in one container (the creator), as for a builder you trust")
    .option(
      "-b, --buildpack <ref>",
      "a buildpack to build with instead of the builder's order: a directory, a .tgz, docker://<buildpackage>, or <id>@<version> of the builder's (repeatable, in order)",
      repeatable,
      [],
    )
    .option(
      "--extension <ref>",
      "an image extension to build with instead of the builder's extension order: a directory, a .tgz, docker://<extension package>, or <id>@<version> of the builder's (repeatable, in order)",
      repeatable,
      [],
    )
    .addOption(
      new Option("--pull-policy <policy>", "when to pull the builder and run image").choices([
        "always",
        "if-not-present",
        "never",
      ]),
    )
    .option(
      "-e, --env <KEY=VALUE|KEY>",
      "a build-time variable; KEY alone takes it from your environment (repeatable)",
      repeatable,
      [],
    )
    .option("--env-file <file>", "build-time variables, one KEY=VALUE per line (repeatable)", repeatable, [])
    .addOption(
      new Option(
        "--network <mode>",
        "the network of the phase containers (default: the driver's build network)",
      ).choices(["default", "none", "host"]),
    )
    .option(
      "--volume <host:container[:ro]>",
      "mount a host directory into the buildpacks' phases (repeatable)",
      repeatable,
      [],
    )
    .option("--clear-cache", "do not restore the cache: every layer is rebuilt")
    .option("--cache <volume>", "the cache volume's name (default: one per image and app directory)")
    .option(
      "--cache-image <image>",
      "keep the cache in this registry image instead of a volume (needs --publish)",
    )
    .option("--default-process <type>", "the process the image starts by default")
    .option("-d, --descriptor <file>", "the project descriptor (default: project.toml in the app directory)")
    .option(
      "--insecure-registry <host>",
      "a registry that may be reached over plain HTTP (repeatable)",
      repeatable,
      [],
    )
    .option(
      "--extend-driver <name>",
      "the build driver that applies image extensions' Dockerfiles (default: the --driver, e.g. buildah with podman)",
    )
    .option("--json", "print a report as JSON on stdout (the lifecycle's output goes to stderr)");
  return addDriverOptions(command).action(async (image: string, opts: Options) => {
    // loaded when a build runs, from core's parts a build needs: not for `cnbp --help` or other commands
    const [{ build, readProject, registryAuthEnv }, { openDriver }, { DockerKeychain, RegistryClient }] =
      await Promise.all([
        import("@cnbp/core/build"),
        import("@cnbp/core/config"),
        import("@cnbp/core/image"),
      ]);
    const appDir = resolve(opts.path);
    const project = await readProject(
      opts.descriptor ? resolve(opts.descriptor) : join(appDir, "project.toml"),
      opts.descriptor !== undefined,
    );
    if (opts.cacheImage && !opts.publish)
      throw new UsageError("build: --cache-image needs --publish (the cache image goes to a registry)");
    const opened = await openDriver({
      flags: driverFlags(opts),
      env,
      kind: "runtime",
      builtinPackageDirs: builtinDriverDirs(),
    });
    const driver = opened.driver;
    // its options come from the config file only: --driver-opt and CNBP_DRIVER_OPTS are the runtime driver's
    const extender = opts.extendDriver
      ? (
          await openDriver({
            flags: { driver: opts.extendDriver },
            env: { ...env, CNBP_DRIVER_OPTS: undefined },
            kind: "build",
            builtinPackageDirs: builtinDriverDirs(),
          }).catch(async (err: unknown) => {
            await driver[Symbol.asyncDispose]();
            throw err;
          })
        ).driver
      : undefined;
    try {
      const builder = opts.builder ?? project.builder ?? opened.config.values["default-builder"];
      if (!builder)
        throw new UsageError("build: no builder given", {
          hints: [
            "give one with --builder, in project.toml ([io.buildpacks] builder), or set a default: `cnbp config set default-builder <image>`",
          ],
        });
      const trusted = opts.trustBuilder ?? (opened.config.values["trusted-builders"] ?? []).includes(builder);
      const runImage = opts.runImage;
      const controller = new AbortController();
      const cancel = () => controller.abort();
      // `on`, not `once`: execa's exit handler re-raises a signal that no other listener is left to handle
      process.on("SIGINT", cancel);
      process.on("SIGTERM", cancel);
      const lifecycleOut = opts.json ? io.stderr : io.stdout;
      const report = await build(
        driver,
        {
          image,
          appDir,
          appFilter: project.filter,
          builder,
          ...(runImage ? { runImage } : {}),
          ...(opts.lifecycleImage ? { lifecycleImage: opts.lifecycleImage } : {}),
          ...(opts.workspace ? { workspaceDir: opts.workspace } : {}),
          ...(opts.platform ? { platform: platformFlag(opts.platform) } : {}),
          tags: opts.tag,
          publish: opts.publish ?? false,
          trustBuilder: trusted,
          pullPolicy: opts.pullPolicy ?? opened.config.values["pull-policy"] ?? "if-not-present",
          buildpacks: {
            ...project.buildpacks,
            ...(opts.buildpack.length
              ? {
                  group: opts.buildpack.map((ref) => ({ where: "--buildpack", ref, baseDir: process.cwd() })),
                }
              : {}),
          },
          extensions: opts.extension.map((ref) => ({ where: "--extension", ref, baseDir: process.cwd() })),
          registry: new RegistryClient({ keychain: new DockerKeychain({ env }) }),
          keychain: new DockerKeychain({ env }),
          env: { ...project.env, ...(await envFiles(opts.envFile)), ...envFlags(opts.env, env) },
          ...(opts.network ? { network: opts.network } : {}),
          clearCache: opts.clearCache ?? false,
          ...(opts.cache ? { cacheVolume: opts.cache } : {}),
          ...(opts.cacheImage ? { cacheImage: opts.cacheImage } : {}),
          ...(opts.defaultProcess ? { defaultProcess: opts.defaultProcess } : {}),
          volumes: opts.volume.map(volumeFlag),
          insecureRegistries: opts.insecureRegistry,
          registryAuth: await registryAuthEnv(new DockerKeychain({ env }), [
            image,
            runImage,
            opts.cacheImage,
          ]),
          cacheRoot: env.CNBP_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cnbp"),
          ...(extender ? { extender } : {}),
          signal: controller.signal,
        },
        {
          stdout: textSink(lifecycleOut),
          stderr: textSink(io.stderr),
          phase: (t) => {
            if (t.seconds !== undefined && !opts.json)
              io.stdout.write(`[cnbp] ${t.phase} done in ${t.seconds.toFixed(2)} s\n`);
          },
          note: (message) => lifecycleOut.write(`[cnbp] ${message}\n`),
        },
      ).finally(() => {
        process.off("SIGINT", cancel);
        process.off("SIGTERM", cancel);
      });
      if (opts.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else io.stdout.write(summary(report, opened.name));
    } finally {
      await Promise.all([driver[Symbol.asyncDispose](), extender?.[Symbol.asyncDispose]()]);
    }
  });
}

function summary(r: BuildReport, driver: string): string {
  const where = r.published ? "pushed to its registry" : `in ${driver}'s image store`;
  const id = r.id ? ` (${r.id})` : r.digest ? ` (${r.digest})` : "";
  const cnbp = Math.max(0, r.seconds - r.containerSeconds);
  return `Built ${r.image}${id}, ${where}, in ${r.seconds.toFixed(2)} s (${cnbp.toFixed(2)} s of it cnbp's own)\n`;
}

/** Decodes the bytes of a container's stream for a text writer, never splitting a UTF-8 character. */
function textSink(to: Io["stdout"]) {
  const decoder = new TextDecoder();
  return { write: (chunk: Uint8Array) => to.write(decoder.decode(chunk, { stream: true })) };
}

function envFlags(values: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const name = eq < 0 ? v : v.slice(0, eq);
    checkEnvName(name, `--env ${JSON.stringify(v)}`);
    const value = eq < 0 ? env[name] : v.slice(eq + 1);
    if (value === undefined)
      throw new UsageError(
        `build: --env ${name} takes its value from your environment, where it is not set`,
        {
          hints: [`give it as --env ${name}=<value>, or export ${name}`],
        },
      );
    out[name] = value;
  }
  return out;
}

async function envFiles(files: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      throw new UsageError(`build: --env-file ${file} cannot be read`, { hints: ["check the path"] });
    }
    for (const [i, raw] of text.split("\n").entries()) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const eq = line.indexOf("=");
      const name = eq < 0 ? line : line.slice(0, eq);
      checkEnvName(name, `${file}:${i + 1}`);
      if (eq < 0)
        throw new UsageError(`build: ${file}:${i + 1}: ${JSON.stringify(line)} has no "=": write KEY=VALUE`);
      out[name] = line.slice(eq + 1);
    }
  }
  return out;
}

function checkEnvName(name: string, where: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new UsageError(`build: ${where}: ${JSON.stringify(name)} is not a variable name`, {
      hints: ["names are letters, digits and _, not starting with a digit"],
    });
}

function volumeFlag(spec: string): BindMount {
  const [source = "", target = "", mode, ...rest] = spec.split(":");
  if (
    !isAbsolute(source) ||
    !isAbsolute(target) ||
    rest.length > 0 ||
    (mode !== undefined && mode !== "ro" && mode !== "rw")
  )
    throw new UsageError(
      `build: --volume ${JSON.stringify(spec)} is not <host dir>:<container dir>[:ro|rw]`,
      {
        hints: ["both paths are absolute, e.g. --volume /srv/data:/data:ro"],
      },
    );
  return { type: "bind", source, target, ...(mode === "ro" ? { readOnly: true } : {}) };
}

function platformFlag(value: string): string {
  if (!/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(value))
    throw new UsageError(`build: --platform ${JSON.stringify(value)} is not <os>/<arch>[/<variant>]`, {
      hints: ["e.g. --platform linux/amd64 or linux/arm64/v8"],
    });
  return value;
}
