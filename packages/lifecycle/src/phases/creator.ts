/**
 * creator (shared/spec/platform.md 4.7): analyzer, detector, restorer, builder and exporter in one process,
 * for builders the platform trusts, with the inputs given once. As root it reads the registry credentials of
 * every image involved and hands them on as CNB_REGISTRY_AUTH, gives the build user the volumes it writes, and
 * then runs every phase as that user (buildpacks included), as the Go creator does. A group with image
 * extensions is refused: their Dockerfiles need the separate phases.
 */
import { type Credential, DockerKeychain, parseReference, readSpecFile, runToml } from "@cnbp/core";
import { type FlagSpec, flagsForApi } from "../cli/flags.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { dropPrivileges, ensureOwner } from "../platform/privileges.js";
import { ANALYZER_FLAGS, analyzer } from "./analyzer.js";
import { BUILDER_FLAGS, builder } from "./builder.js";
import { runDetection } from "./detector.js";
import { EXPORTER_FLAGS, exporter } from "./exporter.js";
import { RESTORER_FLAGS, restorer } from "./restorer.js";
import { startPhase } from "./start.js";

export const CREATOR_FLAGS: readonly FlagSpec[] = [
  ...[
    "app",
    "buildpacks",
    "cache-dir",
    "cache-image",
    "gid",
    "launch-cache",
    "launcher",
    "layers",
    "log-level",
    "order",
    "platform",
    "previous-image",
    "process-type",
    "project-metadata",
    "report",
    "run-image",
    "uid",
  ].map((name) => ({ name, kind: "string" }) as const),
  { name: "daemon", kind: "bool" },
  { name: "no-color", kind: "bool" },
  { name: "parallel", kind: "bool" },
  { name: "skip-restore", kind: "bool" },
  { name: "tag", kind: "list" },
  { name: "build-config", kind: "string", since: "0.11" },
  { name: "launcher-sbom", kind: "string", since: "0.11" },
  { name: "layout", kind: "bool", since: "0.12" },
  { name: "layout-dir", kind: "string", since: "0.12" },
  { name: "run", kind: "string", since: "0.12" },
  { name: "insecure-registry", kind: "list", since: "0.13" },
  { name: "system", kind: "string", since: "0.15" },
];

const fail = (message: string, code: number = ExitCode.failed): never => {
  throw new LifecycleError(code, `creator: ${message}`);
};

export async function creator(argv: readonly string[], env: Env): Promise<void> {
  const { api, flags, inputs, log } = startPhase("creator", argv, env, CREATOR_FLAGS);
  // as the Go lifecycle's debug log times its phases; the first line says how long Node took to get here
  log.debug(`Timer: Creator started ${seconds(performance.now())} after its process`);
  const timed = async <T>(phase: string, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await run();
    } finally {
      log.debug(`Timer: ${phase} ran for ${seconds(performance.now() - start)}`);
    }
  };
  if (flags.positionals.length !== 1) {
    fail(
      `expected exactly one argument, the output image; got ${flags.positionals.length}`,
      ExitCode.invalidArgs,
    );
  }
  const image = flags.positionals[0] as string;
  const user = { uid: numericId(inputs.uid, "CNB_USER_ID"), gid: numericId(inputs.gid, "CNB_GROUP_ID") };
  if (process.getuid?.() === 0 && user.uid === 0) {
    fail("refusing to run buildpacks as root: set CNB_USER_ID and CNB_GROUP_ID to the build user");
  }

  // as root: credentials for every image, then the volumes to the build user, then the build user
  const phaseEnv: Env = { ...env, ...(await registryAuth(image, inputs, env, log)) };
  // the layout repository too: images are written into it as the build user
  const owned = [
    inputs.layersDir,
    ...(inputs.cacheDir && !inputs.cacheImage ? [inputs.cacheDir] : []),
    ...(inputs.useLayout ? [inputs.layoutDir as string] : []),
  ];
  await ensureOwner(owned, user);
  await dropPrivileges(inputs, owned);

  // the creator's own flags, as each phase defines them (-skip-restore is their -skip-layers)
  const given = new Map(flags.values);
  if (inputs.skipRestore) given.set("skip-layers", true);
  const argsFor = (specs: readonly FlagSpec[], positionals: readonly string[] = []) => [
    ...flagsForApi(specs, api).flatMap((spec) => toArgs(spec, given.get(spec.name))),
    ...positionals,
  ];

  log.info("===> ANALYZING");
  await timed("Analyzer", () => analyzer(argsFor(ANALYZER_FLAGS, [image]), phaseEnv));
  log.info("===> DETECTING");
  const detected = await timed("Detector", () => runDetection(api, inputs, phaseEnv, log, user));
  if (detected.extensions.length > 0) {
    fail(
      `the selected group has image extensions (${detected.extensions.map((e) => `${e.id}@${e.version}`).join(", ")}), which the creator cannot apply: run the phases one by one`,
      ExitCode.detect,
    );
  }
  log.info("===> RESTORING");
  await timed("Restorer", () => restorer(argsFor(RESTORER_FLAGS), phaseEnv));
  log.info("===> BUILDING");
  await timed("Builder", () => builder(argsFor(BUILDER_FLAGS), phaseEnv));
  log.info("===> EXPORTING");
  // the exporter takes the run image from analyzed.toml and the tags as more image arguments
  given.delete("run-image");
  given.delete("tag");
  await timed("Exporter", () => exporter(argsFor(EXPORTER_FLAGS, [image, ...inputs.tags]), phaseEnv));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

/** A parsed flag value back as Go-style arguments. */
function toArgs(spec: FlagSpec, value: string | boolean | string[] | undefined): string[] {
  if (value === undefined || value === false) return [];
  if (spec.kind === "bool") return [`-${spec.name}`];
  if (Array.isArray(value)) return value.flatMap((v) => [`-${spec.name}`, v]);
  return [`-${spec.name}`, String(value)];
}

function numericId(text: string, name: string): number {
  if (!/^\d+$/.test(text)) fail(`${name}: "${text}" is not a numeric id`, ExitCode.invalidArgs);
  return Number(text);
}

/**
 * CNB_REGISTRY_AUTH for every registry the build reads or writes, from the platform's own value and the
 * docker config root can read (the phases run as the build user, who may not). Credentials that are no
 * Authorization header (an identity token) cannot travel this way and are left out with a warning.
 */
async function registryAuth(image: string, inputs: Inputs, env: Env, log: Log): Promise<Env> {
  if (inputs.useLayout) return {};
  const names = [image, ...inputs.tags, inputs.previousImage, inputs.runImage, inputs.cacheImage];
  if (!inputs.runImage) {
    const run = await readSpecFile(runToml, inputs.runPath).catch(() => undefined);
    for (const entry of run?.images ?? []) names.push(entry.image, ...(entry.mirrors ?? []));
  }
  const registries = new Set<string>();
  for (const name of names) {
    if (!name) continue;
    try {
      registries.add(parseReference(name).registry);
    } catch {
      // a bad name is for the phase that uses it to report
    }
  }
  const keychain = new DockerKeychain({ env });
  // the platform's own CNB_REGISTRY_AUTH is kept whole; an invalid one is left for the phases to report
  let headers: Record<string, string>;
  try {
    headers = env.CNB_REGISTRY_AUTH ? JSON.parse(env.CNB_REGISTRY_AUTH) : {};
  } catch {
    return {};
  }
  for (const registry of registries) {
    const credential = await keychain.resolve(registry).catch(() => undefined);
    if (!credential || headers[registry]) continue;
    const header = authorization(credential);
    if (header) headers[registry] = header;
    else log.warn(`the credentials for ${registry} (${credential.source}) cannot be passed on to the phases`);
  }
  return Object.keys(headers).length > 0 ? { CNB_REGISTRY_AUTH: JSON.stringify(headers) } : {};
}

function authorization(credential: Credential): string | undefined {
  switch (credential.kind) {
    case "basic":
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
    case "bearer":
      return `Bearer ${credential.token}`;
    case "header":
      return credential.value;
    default:
      return undefined;
  }
}
