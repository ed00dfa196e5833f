/**
 * `cnbp rebase`, in-process as pack does it: the app image's own layers are put on a new run image by
 * rewriting its config and manifest (./image.ts), under the rules of ./rules.ts. No builder, no container.
 *
 * In a registry (`publish`) only a config and a manifest are pushed; every layer is mounted from the app's or
 * the run image's repository. In the driver's store, the app image and the (pulled) run image are staged in
 * the OCI layout repository the image's builds use (../build/layout-repo.ts: an image built there is staged
 * already), the rebased image is written beside them, and imported under the same name.
 */
import { layoutRepoDir, stageImage } from "../build/layout-repo.js";
import type { PullPolicy, RuntimeDriver, StoredImage } from "../drivers/contract.js";
import { CnbpError, UsageError } from "../errors.js";
import { parseReference } from "../image/reference.js";
import { RegistryClient } from "../image/registry/client.js";
import type { Keychain } from "../image/registry/keychain.js";
import { selectRunImage } from "../image/run-image.js";
import { LayoutBackend, layoutPath } from "../image/store/layout-backend.js";
import { RegistryBackend } from "../image/store/registry-backend.js";
import type { SourceImage } from "../image/store/source-image.js";
import {
  type LifecycleLabel,
  notAppImage,
  readLifecycleLabel,
  recordedRunImages,
} from "../inspect/app-image.js";
import { type RebasedImage, rebaseImage } from "./image.js";
import { checkRebase, RebaseRefused } from "./rules.js";
import { type LayerTransfer, pushRebased, writeRebasedLayout } from "./write.js";

export interface RebaseAppRequest {
  /** The name the rebased image is written as (and read from, without `previousImage`). */
  readonly image: string;
  /** The image to rebase, when not `image` itself. */
  readonly previousImage?: string;
  /** The new run image; default the one the app image records, its mirror on the image's registry first. */
  readonly runImage?: string;
  /** More names for the rebased image. */
  readonly tags?: readonly string[];
  /** Rebase in the registry instead of the driver's store. */
  readonly publish?: boolean;
  /** When to pull the run image into the store (not with `publish`). Default "always": a rebase wants the newest. */
  readonly pullPolicy?: PullPolicy;
  /** Rebase an image marked not rebasable, or onto a run image of another target or not recorded. */
  readonly force?: boolean;
  readonly insecureRegistries?: readonly string[];
  /** Registry credentials (with `publish`). */
  readonly keychain?: Keychain;
  /** Where the build's layout repositories live (without `publish`). */
  readonly cacheRoot: string;
  readonly signal?: AbortSignal;
}

export interface RebaseAppReport {
  readonly image: string;
  readonly tags: readonly string[];
  readonly published: boolean;
  /** The image read. */
  readonly previousImage: string;
  readonly runImage: { readonly name: string; readonly reference: string; readonly topLayer: string };
  /** The run image top layer before the rebase. */
  readonly previousTopLayer: string;
  readonly layers: { readonly runImage: number; readonly app: number };
  /**
   * How the layers reached the result, over every name written: in a registry they are there or mounted,
   * never sent; in the store's layout repository only run image layers the app's layout lacks are copied.
   */
  readonly transfer: LayerTransfer;
  /** The config's digest: the image id in a store. */
  readonly id: string;
  /** The manifest's digest (what a registry names it by). */
  readonly digest: string;
  /** What `force` overrode. */
  readonly warnings: readonly string[];
  readonly seconds: number;
}

/** The app image and the new run image, read wherever the rebase happens. */
interface Inputs {
  readonly app: SourceImage;
  readonly label: LifecycleLabel;
  readonly runImage: SourceImage & { readonly reference: string };
}

/** Rebases in the registry with `req.publish`, else in `driver`'s store (a driver is needed then only). */
export async function rebaseApp(
  driver: RuntimeDriver | undefined,
  req: RebaseAppRequest,
): Promise<RebaseAppReport> {
  const started = performance.now();
  const names = [req.image, ...(req.tags ?? [])];
  const appName = req.previousImage ?? req.image;
  for (const name of [...names, appName, ...(req.runImage ? [req.runImage] : [])]) checkName(name);
  const publish = req.publish ?? false;
  const client = new RegistryClient({
    ...(req.keychain ? { keychain: req.keychain } : {}),
    insecureRegistries: req.insecureRegistries ?? [],
  });
  if (!publish && !driver) throw new Error("rebaseApp: a rebase in the store needs a driver");
  const where = publish ? `registry ${parseReference(appName).registry}` : `${driver?.name}'s image store`;
  const inputs =
    publish || !driver
      ? await inRegistry(client, appName, req, where)
      : await inStore(driver, appName, req, where);
  const { app, label, runImage } = inputs;
  const previousTopLayer = String(label.metadata.runImage?.topLayer ?? "");
  let decision: ReturnType<typeof checkRebase>;
  let rebased: RebasedImage;
  try {
    decision = checkRebase({
      app: app.config,
      newBase: runImage.config,
      newBaseName: runImage.name,
      metadata: label.metadata,
      force: req.force ?? false,
      forceFlag: "--force",
    });
    rebased = rebaseImage({
      app,
      newBase: { ...runImage, digest: runImage.manifestDigest },
      label: label.raw,
      force: req.force ?? false,
      renameRunImage: decision.renameRunImage,
    });
  } catch (err) {
    if (err instanceof RebaseRefused)
      throw new CnbpError("CNBP_REBASE_REFUSED", `rebase: ${appName} in ${where}: ${err.message}`);
    throw err;
  }
  let id = rebased.manifest.config.digest;
  const transfer: LayerTransfer = { existing: 0, mounted: 0, copied: 0, bytes: 0 };
  const count = (layers: LayerTransfer) => {
    for (const key of ["existing", "mounted", "copied", "bytes"] as const) transfer[key] += layers[key];
  };
  if (publish || !driver) {
    for (const name of names)
      count((await pushRebased(client, name, rebased, { base: runImage.name, app: appName })).layers);
  } else {
    const saved = await saveInStore(driver, req, appName, runImage.name, rebased);
    count(saved.layers);
    id = saved.id;
  }
  return {
    image: req.image,
    tags: req.tags ?? [],
    published: publish,
    previousImage: appName,
    runImage: {
      name: runImage.name,
      reference: runImage.reference,
      topLayer: rebased.config.rootfs.diff_ids[rebased.baseLayerCount - 1] as string,
    },
    previousTopLayer,
    layers: {
      runImage: rebased.baseLayerCount,
      app: rebased.manifest.layers.length - rebased.baseLayerCount,
    },
    transfer,
    id,
    digest: rebased.digest,
    warnings: decision.warnings,
    seconds: (performance.now() - started) / 1000,
  };
}

async function inRegistry(client: RegistryClient, appName: string, req: RebaseAppRequest, where: string) {
  const app = await new RegistryBackend(client).find(appName);
  if (!app)
    throw notFound(
      appName,
      where,
      "push it there with `cnbp build --publish`, or rebase the store's copy without --publish",
    );
  const label = appLabel(app, appName, where);
  // the run image for the app's platform, when the name is a multi-platform index
  const backend = new RegistryBackend(client, { os: app.config.os, architecture: app.config.architecture });
  const name =
    req.runImage ?? (await recordedRunImage(label, appName, req.image, (ref) => backend.canRead(ref)));
  const runImage = await backend.find(name);
  if (!runImage)
    throw new CnbpError(
      "CNBP_RUN_IMAGE_NOT_FOUND",
      `rebase: run image ${name} was not found in registry ${parseReference(name).registry}`,
      {
        hints: ["check --run-image, or the run images the app image records (`cnbp inspect`)"],
      },
    );
  return { app, label, runImage: { ...runImage, reference: runImage.identifier } } satisfies Inputs;
}

async function inStore(driver: RuntimeDriver, appName: string, req: RebaseAppRequest, where: string) {
  const images = driver.images;
  const stored = await images.inspect(appName);
  if (!stored)
    throw notFound(
      appName,
      where,
      "build it with `cnbp build`, or add --publish to rebase it in its registry",
    );
  const label = readLifecycleLabel(stored.labels, `${appName} in ${where}`);
  if (!label) throw withPrefix(notAppImage(`${appName} in ${where}`));
  const name = req.runImage ?? (await recordedRunImage(label, appName, req.image, async () => true));
  const run = await pullRunImage(driver, name, stored, req);
  const repo = layoutRepoDir(req.cacheRoot, driver.name, req.image);
  await stageImage(images, stored, appName, repo);
  await stageImage(images, run, name, repo);
  const backend = new LayoutBackend(repo);
  const [app, runImage] = await Promise.all([backend.find(appName), backend.find(name)]);
  if (!app || !runImage) throw new Error(`staging ${appName} and ${name} in ${repo} left no image there`);
  // a store's image has no digest reference of its own: its id is what identifies it, as in pack's daemon rebase
  return { app, label, runImage: { ...runImage, reference: run.id } } satisfies Inputs;
}

/** Where a pull with each policy looks. */
const LOOKED_IN: Record<PullPolicy, (driver: string) => string> = {
  always: () => "its registry",
  "if-not-present": (driver) => `${driver}'s image store or in its registry`,
  never: (driver) => `${driver}'s image store`,
};

async function pullRunImage(
  driver: RuntimeDriver,
  name: string,
  app: StoredImage,
  req: RebaseAppRequest,
): Promise<StoredImage> {
  const policy = req.pullPolicy ?? "always";
  try {
    return await driver.images.pull(name, {
      policy,
      platform: [app.os, app.arch, ...(app.variant ? [app.variant] : [])].join("/"),
      ...(req.signal ? { signal: req.signal } : {}),
    });
  } catch (err) {
    // by code: a third-party driver's errors come from its own copy of core
    if ((err as { code?: unknown }).code === "CNBP_IMAGE_NOT_FOUND")
      throw new CnbpError(
        "CNBP_RUN_IMAGE_NOT_FOUND",
        `rebase: run image ${name} was not found in ${LOOKED_IN[policy](driver.name)} (pull policy ${policy})`,
        {
          hints: [
            "check --run-image, or the run images the app image records (`cnbp inspect`)",
            ...(policy === "always"
              ? ["to use the copy in the driver's store, add --pull-policy if-not-present"]
              : []),
          ],
          cause: err,
        },
      );
    throw err;
  }
}

/** Writes the rebased image to the layout repository and imports it into the store. */
async function saveInStore(
  driver: RuntimeDriver,
  req: RebaseAppRequest,
  appName: string,
  runName: string,
  rebased: RebasedImage,
): Promise<{ id: string; layers: LayerTransfer }> {
  const repo = layoutRepoDir(req.cacheRoot, driver.name, req.image);
  const dir = layoutPath(repo, req.image);
  const written = await writeRebasedLayout(dir, parseReference(req.image).tag ?? "latest", rebased, {
    baseDir: layoutPath(repo, runName),
    appDir: layoutPath(repo, appName),
  });
  const stored = await driver.images.importOciLayout(dir, { tag: req.image });
  for (const tag of req.tags ?? []) await driver.images.tag(req.image, tag);
  return { id: stored.id, layers: written.layers };
}

/** The run image the label records, chosen as for a build: the one on the image's registry first. */
async function recordedRunImage(
  label: LifecycleLabel,
  appName: string,
  image: string,
  readable: (ref: string) => Promise<boolean>,
): Promise<string> {
  const recorded = recordedRunImages(label.metadata);
  if (!recorded.image)
    throw new UsageError(`rebase: ${appName} records no run image: give the new one with --run-image`);
  const chosen = await selectRunImage(recorded, image, readable);
  if (!chosen)
    throw new CnbpError(
      "CNBP_RUN_IMAGE_NOT_FOUND",
      `rebase: none of the run images ${appName} records can be read: ${[recorded.image, ...recorded.mirrors].join(", ")}`,
      { hints: ["give one with --run-image, or check your credentials for those registries"] },
    );
  return chosen;
}

function appLabel(app: SourceImage, name: string, where: string): LifecycleLabel {
  const label = readLifecycleLabel(app.config.config?.Labels ?? {}, `${name} in ${where}`);
  if (!label) throw withPrefix(notAppImage(`${name} in ${where}`));
  return label;
}

function notFound(name: string, where: string, hint: string): CnbpError {
  return new CnbpError("CNBP_IMAGE_NOT_FOUND", `rebase: ${name} was not found in ${where}`, {
    hints: [hint],
  });
}

function withPrefix(err: CnbpError): CnbpError {
  return new CnbpError(err.code, `rebase: ${err.message}`, { hints: err.hints });
}

function checkName(name: string): void {
  try {
    parseReference(name);
  } catch (err) {
    throw new UsageError(`rebase: ${(err as Error).message}`);
  }
}
