/**
 * rebaser (shared/spec/platform.md 4.8 and 9): puts an app image's own layers on a new run image, writing
 * only a new config and manifest to every `<image>` (layers are mounted across repositories, never
 * downloaded), and writes report.toml.
 *
 * The image read is `-previous-image`, else the first `<image>`. The new run image is `-run-image` (or the
 * deprecated `-image`), else the label's `runImage` (or legacy `stack.runImage`) with the mirror on the
 * rebased image's registry preferred. The rules of core's rebase/rules.ts decide what is refused; `-force`
 * overrides what the spec lets it, with warnings.
 *
 * Layout mode (`CNB_USE_LAYOUT`/`CNB_LAYOUT_DIR`, or `-layout`/`-layout-dir` from 0.12, which the Go rebaser
 * does not have) reads and writes OCI layouts under the layout root (platform.md section 11).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ImageBackend, SourceImage } from "@cnbp/core";
import {
  checkRebase,
  DockerKeychain,
  type Fetch,
  REBASE_LABELS as LABEL,
  type LayerTransfer,
  LayoutBackend,
  type LifecycleMetadata,
  layoutPath,
  lifecycleMetadataLabel,
  parseReference,
  pushRebased,
  type RebasedImage,
  RebaseRefused,
  RegistryBackend,
  RegistryClient,
  rebaseImage,
  reportToml,
  selectRunImage,
  serializeSpec,
  validateSpec,
  type WrittenImage,
  writeRebasedLayout,
} from "@cnbp/core";
import type { FlagSpec } from "../cli/flags.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { dropPrivileges } from "../platform/privileges.js";
import { startPhase } from "./start.js";

export const REBASER_FLAGS: readonly FlagSpec[] = [
  ...["gid", "image", "log-level", "report", "run-image", "uid"].map(
    (name) => ({ name, kind: "string" }) as const,
  ),
  { name: "daemon", kind: "bool" },
  { name: "no-color", kind: "bool" },
  { name: "previous-image", kind: "string", since: "0.11" },
  { name: "force", kind: "bool", since: "0.12" },
  { name: "layout", kind: "bool", since: "0.12" },
  { name: "layout-dir", kind: "string", since: "0.12" },
  { name: "insecure-registry", kind: "list", since: "0.13" },
];

/** For callers that embed the phase (and tests that count the bytes it moves). */
export interface RebaserOptions {
  /** The fetch the registry client uses; default the global one. */
  readonly fetch?: Fetch;
  readonly log?: Log;
  /** Called with what was written to each image. */
  readonly onWritten?: (written: WrittenImage) => void;
}

const fail = (message: string, code: number = ExitCode.rebase): never => {
  throw new LifecycleError(code, `rebaser: ${message}`);
};

export async function rebaser(argv: readonly string[], env: Env, options: RebaserOptions = {}) {
  const start = startPhase("rebaser", argv, env, REBASER_FLAGS);
  const { flags, inputs } = start;
  const log = options.log ?? start.log;
  const names = flags.positionals;
  if (names.length === 0) fail("at least one image argument is required", ExitCode.invalidArgs);
  for (const name of [...names, ...(inputs.previousImage ? [inputs.previousImage] : [])]) {
    try {
      parseReference(name);
    } catch (err) {
      fail((err as Error).message, ExitCode.invalidArgs);
    }
  }
  const runImageFlag = runImageInput(flags.values, inputs, log);
  if (inputs.useDaemon) {
    fail(
      "-daemon is not supported by cnbp's lifecycle yet: rebase in a registry, or in an OCI layout with -layout",
    );
  }
  if (inputs.useLayout && !inputs.layoutDir) {
    fail("-layout needs -layout-dir (or CNB_LAYOUT_DIR)", ExitCode.invalidArgs);
  }
  const client = inputs.useLayout
    ? undefined
    : new RegistryClient({
        keychain: new DockerKeychain({ env }),
        insecureRegistries: inputs.insecureRegistries,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
  const backend: ImageBackend = client
    ? new RegistryBackend(client)
    : new LayoutBackend(inputs.layoutDir as string);

  // everything that needs credentials is read before privileges are dropped
  const appName = inputs.previousImage ?? (names[0] as string);
  const app = await backend.find(appName);
  if (!app) return fail(`the image to rebase, ${appName}, was not found`);
  const label = appLabel(app);
  const newBaseName = runImageFlag ?? (await runImageFromLabel(backend, appName, label?.metadata));
  const newBase = await backend.find(newBaseName);
  if (!newBase) return fail(`run image ${newBaseName} was not found`);
  for (const name of names) {
    if (!(await backend.canWrite(name))) {
      fail(
        `cannot write ${name}: check the credentials for its registry (docker login, or CNB_REGISTRY_AUTH)`,
      );
    }
  }
  await dropPrivileges(inputs, []);

  let rebased: RebasedImage;
  try {
    if (!label) {
      throw new RebaseRefused(
        `the image to rebase, ${appName}, has no ${LABEL.metadata} label: it was not built by a CNB lifecycle`,
      );
    }
    const decision = checkRebase({
      app: app.config,
      newBase: newBase.config,
      newBaseName,
      metadata: label.metadata,
      force: inputs.forceRebase,
    });
    for (const warning of decision.warnings) log.warn(warning);
    rebased = rebaseImage({
      app,
      newBase: {
        ...newBase,
        digest: newBase.manifestDigest,
        reference: newBase.identifier,
        name: newBaseName,
      },
      label: label.raw,
      force: inputs.forceRebase,
      renameRunImage: decision.renameRunImage,
    });
  } catch (err) {
    if (err instanceof RebaseRefused) return fail(err.message);
    throw err;
  }

  const written: WrittenImage[] = [];
  for (const name of names) {
    const result = await saveAs(name, rebased, inputs, client, { base: newBaseName, app: appName }, log);
    written.push(result);
    options.onWritten?.(result);
  }
  logResult(log, app, newBaseName, rebased, written);
  await writeReport(inputs, names, rebased);
}

/** Writes the rebased image as `name`; a failure ends the phase with the rebase exit code. */
async function saveAs(
  name: string,
  rebased: RebasedImage,
  inputs: Inputs,
  client: RegistryClient | undefined,
  sources: { base: string; app: string },
  log: Log,
): Promise<WrittenImage> {
  try {
    if (client) return { ...(await pushRebased(client, name, rebased, sources, (m) => log.info(m))), name };
    const root = inputs.layoutDir as string;
    const result = await writeRebasedLayout(
      layoutPath(root, name),
      parseReference(name).tag ?? "latest",
      rebased,
      {
        baseDir: layoutPath(root, sources.base),
        appDir: layoutPath(root, sources.app),
      },
    );
    return { ...result, name };
  } catch (err) {
    if (err instanceof LifecycleError) throw err;
    return fail(`saving ${name}: ${(err as Error).message}`);
  }
}

/** `-run-image`, `CNB_RUN_IMAGE`, or the deprecated `-image` (which may not come with `-run-image`). */
function runImageInput(
  values: ReadonlyMap<string, string | boolean | string[]>,
  inputs: Inputs,
  log: Log,
): string | undefined {
  const deprecated = values.get("image") as string | undefined;
  if (deprecated === undefined) return inputs.runImage || undefined;
  if (values.has("run-image"))
    fail("supply only one of -run-image or (deprecated) -image", ExitCode.invalidArgs);
  log.warn("-image is deprecated, use -run-image instead");
  return deprecated;
}

interface AppLabel {
  /** The label as written, keys this lifecycle does not know included: rewritten with them kept. */
  readonly raw: Record<string, unknown>;
  readonly metadata: LifecycleMetadata;
}

function appLabel(app: SourceImage): AppLabel | undefined {
  const text = app.config.config?.Labels?.[LABEL.metadata];
  if (text === undefined || text === "") return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(`the ${LABEL.metadata} label of ${app.name} is not JSON: ${(err as Error).message}`);
  }
  const parsed = validateSpec(lifecycleMetadataLabel, raw, `${app.name} label ${LABEL.metadata}`);
  if (!parsed.ok || typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const problems = parsed.problems.map((p) => `${p.path.join(".") || "(the label)"} ${p.message}`);
    return fail(
      `the ${LABEL.metadata} label of ${app.name} is invalid: ${problems.join("; ") || "not an object"}`,
    );
  }
  return { raw: raw as Record<string, unknown>, metadata: parsed.value };
}

/** The label's run image (`runImage`, else `stack.runImage`), the mirror on the rebased image's registry first. */
async function runImageFromLabel(
  backend: ImageBackend,
  appName: string,
  metadata: LifecycleMetadata | undefined,
): Promise<string> {
  const entry = metadata?.runImage?.image ? metadata.runImage : metadata?.stack?.runImage;
  if (!entry?.image) {
    return fail("-run-image is required when there is no run image metadata available", ExitCode.invalidArgs);
  }
  const candidates = { image: entry.image, mirrors: entry.mirrors ?? [] };
  const chosen = await selectRunImage(candidates, appName, (ref) => backend.canRead(ref));
  if (!chosen) {
    return fail(
      `none of the run images in the app image's metadata can be read: ${[candidates.image, ...candidates.mirrors].join(", ")}`,
    );
  }
  return chosen;
}

function logResult(
  log: Log,
  app: SourceImage,
  newBaseName: string,
  rebased: RebasedImage,
  written: readonly WrittenImage[],
) {
  const total = written.reduce<LayerTransfer>(
    (sum, w) => ({
      existing: sum.existing + w.layers.existing,
      mounted: sum.mounted + w.layers.mounted,
      copied: sum.copied + w.layers.copied,
      bytes: sum.bytes + w.layers.bytes,
    }),
    { existing: 0, mounted: 0, copied: 0, bytes: 0 },
  );
  const appLayers = rebased.manifest.layers.length - rebased.baseLayerCount;
  log.info(
    `Rebased ${app.name}: ${appLayers} app layers on ${rebased.baseLayerCount} layers of ${newBaseName}; layers already there: ${total.existing}, mounted: ${total.mounted}, copied: ${total.copied} (${total.bytes} bytes)`,
  );
  log.info(`*** Images (${rebased.digest}):`);
  for (const w of written) log.info(`      ${w.name}`);
}

async function writeReport(inputs: Inputs, names: readonly string[], rebased: RebasedImage) {
  const report = {
    image: { tags: [...names], digest: rebased.digest, "manifest-size": rebased.manifestBytes.length },
  };
  try {
    await mkdir(dirname(inputs.reportPath), { recursive: true });
    await writeFile(inputs.reportPath, serializeSpec(reportToml, report));
  } catch (err) {
    fail(`write rebase report ${inputs.reportPath}: ${(err as Error).message}`);
  }
}
