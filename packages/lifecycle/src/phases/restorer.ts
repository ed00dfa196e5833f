/**
 * restorer (shared/spec/platform.md 4.3, 8.3): writes each group buildpack's store.toml from the previous
 * image's metadata, then (unless -skip-layers) restores layer metadata from the previous image and the cache,
 * deletes cached layers that are stale against the image, extracts the data of the others from the cache, and
 * puts the cached and launch SBOMs next to their layers.
 *
 * A run image that is to be extended or that extensions switched is looked up and pinned in analyzed.toml
 * first (./restorer-run-image.ts).
 *
 * Not done yet: -build-image (the sparse build image fetch only the kaniko extender needs; cnbp extends the
 * build image in the platform): refused with a clear error.
 */
import { chown, copyFile, lstat, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AnalyzedMetadata,
  analyzedToml,
  apiAtLeast,
  CnbpError,
  DockerKeychain,
  extractLayer,
  type GroupFile,
  LAYER_READ,
  LAYER_UNSAFE,
  type Owner,
  type PreviousImageMetadata,
  parseReference,
  RegistryClient,
  readSpecFile,
  serializeSpec,
  storeToml,
  stringifyToml,
} from "@cnbp/core";
import { CacheCorruptError, type LayerCache, openCache } from "../cache/index.js";
import type { FlagSpec } from "../cli/flags.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { Log } from "../log.js";
import { readGroup } from "../platform/group.js";
import type { Env } from "../platform/inputs.js";
import { dropPrivileges, ensureOwner } from "../platform/privileges.js";
import { lookUpRunImage, needsLookUp } from "./restorer-run-image.js";
import { startPhase } from "./start.js";

export const RESTORER_FLAGS: readonly FlagSpec[] = [
  ...["analyzed", "cache-dir", "cache-image", "gid", "group", "layers", "log-level", "uid"].map(
    (name) => ({ name, kind: "string" }) as const,
  ),
  { name: "no-color", kind: "bool" },
  { name: "skip-layers", kind: "bool" },
  { name: "build-image", kind: "string", since: "0.10" },
  { name: "daemon", kind: "bool", since: "0.12" },
  { name: "generated", kind: "string", since: "0.12" },
  { name: "layout", kind: "bool", since: "0.12" },
  { name: "layout-dir", kind: "string", since: "0.12" },
  { name: "insecure-registry", kind: "list", since: "0.13" },
  { name: "run", kind: "string", since: "0.14" },
];

const fail = (message: string, code: number = ExitCode.restore): never => {
  throw new LifecycleError(code, `restorer: ${message}`);
};

type GroupElement = GroupFile["group"][number];

export async function restorer(argv: readonly string[], env: Env) {
  const { api, flags, inputs, log } = startPhase("restorer", argv, env, RESTORER_FLAGS);
  if (flags.positionals.length > 0) {
    fail(`expected no arguments, got ${flags.positionals.join(" ")}`, ExitCode.invalidArgs);
  }
  const owner = { uid: userId(inputs.uid, "-uid"), gid: userId(inputs.gid, "-gid") };
  if (inputs.useDaemon) {
    fail("-daemon is not supported by cnbp's lifecycle yet: use a registry, or an OCI layout with -layout");
  }
  if (inputs.buildImage) {
    fail("-build-image (build image extension) is not supported by cnbp's lifecycle yet");
  }
  if (inputs.cacheImage) {
    try {
      parseReference(inputs.cacheImage);
    } catch (err) {
      fail(`-cache-image: ${(err as Error).message}`, ExitCode.invalidArgs);
    }
  }

  const group = await readGroup("restorer", inputs.groupPath, ExitCode.restore);
  const analyzed = await readAnalyzed(inputs.analyzedPath, log);
  const runImage = analyzed?.["run-image"];
  if (analyzed && runImage && needsLookUp(runImage, (group["group-extensions"]?.length ?? 0) > 0)) {
    // still root: credentials only root can read work, and an existing file keeps its owner
    const updated = { ...analyzed, "run-image": await lookUpRunImage(runImage, inputs, env) };
    await writeFile(inputs.analyzedPath, serializeSpec(analyzedToml, updated));
    log.info(`Run image ${runImage.reference} pinned as ${updated["run-image"].reference}`);
  }
  if (!inputs.cacheDir && !inputs.cacheImage) log.warn("No cached data will be used, no cache specified.");

  // credentials are read while still root (files only root can read still work), then privileges dropped
  let client: RegistryClient | undefined;
  if (inputs.cacheImage && !inputs.skipLayers) {
    const keychain = new DockerKeychain({ env });
    await keychain.resolve(parseReference(inputs.cacheImage).registry);
    client = new RegistryClient({ keychain, insecureRegistries: inputs.insecureRegistries });
  }
  const owned = [inputs.layersDir, ...(inputs.cacheDir && !inputs.cacheImage ? [inputs.cacheDir] : [])];
  await ensureOwner(owned, owner);
  await dropPrivileges(inputs, owned);

  let cache: LayerCache | undefined;
  if (!inputs.skipLayers) {
    try {
      cache = await openCache({ cacheDir: inputs.cacheDir, cacheImage: inputs.cacheImage, client, log });
    } catch (err) {
      fail(`opening the cache: ${(err as Error).message}`);
    }
    if (cache && !cache.found) log.info("Layer cache not found");
  }
  await restoreLayers({
    layersDir: inputs.layersDir,
    platformApi: api,
    buildpacks: group.group,
    appMetadata: analyzed?.metadata,
    cache,
    skipLayers: inputs.skipLayers,
    // still root (uid 0 asked for): give what is written the build user's ids; else it is the process's own
    owner: process.getuid?.() === 0 ? owner : undefined,
    log,
  });
}

function userId(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) fail(`${flag}: "${text}" is not a numeric id`, ExitCode.invalidArgs);
  return Number(text);
}

/** analyzed.toml; one that is missing or unreadable is reported and the build goes on without it (as Go). */
async function readAnalyzed(path: string, log: Log): Promise<AnalyzedMetadata | undefined> {
  try {
    return await readSpecFile(analyzedToml, path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? `${path} does not exist` : errorText(err);
    log.warn(`Not using analyzed data, usable file not found: ${why}`);
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface RestoreOptions {
  readonly layersDir: string;
  readonly platformApi: string;
  /** The group's buildpacks (extensions have no layers). */
  readonly buildpacks: readonly GroupElement[];
  /** The previous image's metadata: analyzed.toml `[metadata]`. */
  readonly appMetadata: PreviousImageMetadata | undefined;
  readonly cache: LayerCache | undefined;
  readonly skipLayers: boolean;
  /** Owner of everything written (running as root); undefined: the process's own. */
  readonly owner: Owner | undefined;
  readonly log: Log;
}

/** A layer's flags and metadata, from either source (TOML `metadata` or JSON `data`). */
interface LayerRecord {
  readonly sha: string;
  readonly launch: boolean;
  readonly build: boolean;
  readonly cache: boolean;
  readonly data: unknown;
}

const escapeId = (id: string) => id.replaceAll("/", "_");

/** A layer name that names one entry of the buildpack's directory (metadata is not trusted with paths). */
const safeName = (name: string) => name !== "" && name !== "." && name !== ".." && !/[/\0]/.test(name);

/** Everything the restorer does after reading its inputs: store.toml, then layers and SBOMs (8.3). */
export async function restoreLayers(o: RestoreOptions): Promise<void> {
  const { log } = o;
  for (const bp of o.buildpacks) {
    const store = o.appMetadata?.buildpacks?.find((b) => b.key === bp.id)?.store;
    if (store) {
      const dir = await bpDir(o, bp);
      await writeOwned(o, join(dir, "store.toml"), serializeSpec(storeToml, store));
    }
  }
  if (o.skipLayers) {
    log.info("Skipping buildpack layer analysis");
    return;
  }
  const cacheMeta = o.cache?.metadata ?? {};
  for (const bp of o.buildpacks) {
    const appLayers = records(o.appMetadata?.buildpacks?.find((b) => b.key === bp.id)?.layers, "metadata");
    const cachedLayers = records(cacheMeta.buildpacks?.find((b) => b.key === bp.id)?.layers ?? {}, "data");
    const shas = new Map<string, string>();
    const restoreMetadata = async (name: string, layer: LayerRecord, from: string) => {
      if (!safeName(name)) {
        log.warn(`Not restoring layer ${JSON.stringify(name)} of ${bp.id} from ${from}: not a layer name`);
        return;
      }
      log.info(`Restoring metadata for "${bp.id}:${name}" from ${from}`);
      const dir = await bpDir(o, bp);
      await writeOwned(o, join(dir, `${name}.toml`), layerMetadataToml(layer.data));
      shas.set(name, layer.sha);
    };

    // 1. launch layers of the previous image: metadata only
    for (const [name, layer] of appLayers) {
      if (!layer.launch) continue;
      // build and not cache: the buildpack always makes it again
      if (layer.build && !layer.cache) continue;
      // cached, but not in the cache: no metadata, so that the buildpack makes it again
      if (layer.cache && !cachedLayers.get(name)?.cache) continue;
      await restoreMetadata(name, layer, "app image");
    }
    // 2. cached layers; launch ones only when the image did not have them (and only from 0.14)
    for (const [name, layer] of cachedLayers) {
      if (!layer.cache) continue;
      if (layer.launch && (appLayers.has(name) || !apiAtLeast(o.platformApi, "0.14"))) continue;
      await restoreMetadata(name, layer, "cache");
    }
    // 3. every cached layer now in the buildpack's directory: stale against the image, or restored
    const dir = join(o.layersDir, escapeId(bp.id));
    for (const name of await layerNames(dir)) {
      const cached = cachedLayers.get(name);
      if (!cached?.cache || !o.cache) continue;
      const id = `${bp.id}:${name}`;
      if (shas.get(name) !== cached.sha) {
        log.info(`Removing "${id}", wrong sha`);
        await removeLayer(dir, name);
        continue;
      }
      log.info(`Restoring data for "${id}" from cache`);
      await restoreData(o, o.cache, id, cached.sha, join(dir, name), async () => removeLayer(dir, name));
    }
  }
  // 4. SBOMs
  const sbomSha = cacheMeta.sbom?.sha;
  if (o.cache && sbomSha) {
    log.info("Restoring data for SBOM from cache");
    const dest = join(o.layersDir, "sbom", "cache");
    await restoreData(o, o.cache, "buildpacksio/lifecycle:cache.sbom", sbomSha, dest, () =>
      rm(dest, { recursive: true, force: true }),
    );
  }
  await restoreSboms(o);
}

function records(
  layers: Readonly<Record<string, Record<string, unknown>>> | null | undefined,
  dataKey: "metadata" | "data",
): Map<string, LayerRecord> {
  return new Map(
    Object.entries(layers ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, l]) => [
        name,
        {
          sha: String(l.sha ?? ""),
          launch: l.launch === true,
          build: l.build === true,
          cache: l.cache === true,
          data: l[dataKey],
        },
      ]),
  );
}

/** `<layer>.toml` as the restorer writes it: `[metadata]` only, never `[types]`; nothing without metadata. */
function layerMetadataToml(data: unknown): string {
  if (data === undefined || data === null) return "";
  return stringifyToml({ metadata: data });
}

async function bpDir(o: RestoreOptions, bp: GroupElement): Promise<string> {
  const dir = join(o.layersDir, escapeId(bp.id));
  const made = await mkdir(dir, { recursive: true });
  if (made && o.owner) await chown(dir, o.owner.uid, o.owner.gid);
  return dir;
}

async function writeOwned(o: RestoreOptions, path: string, text: string) {
  await writeFile(path, text);
  if (o.owner) await chown(path, o.owner.uid, o.owner.gid);
}

/** The layers of a buildpack directory: its directories and `<name>.toml` files (not store/launch/build). */
async function layerNames(dir: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const names = new Set<string>();
  for (const e of entries) {
    if (e.isDirectory()) names.add(e.name);
    else if (e.name.endsWith(".toml")) {
      const name = e.name.slice(0, -".toml".length);
      if (!["store", "launch", "build"].includes(name)) names.add(name);
    }
  }
  return [...names].sort();
}

async function removeLayer(dir: string, name: string) {
  await rm(join(dir, name), { recursive: true, force: true });
  await rm(join(dir, `${name}.sha`), { force: true });
  await rm(join(dir, `${name}.toml`), { force: true });
}

/**
 * Extracts a cached layer into `dest`, only what the tar holds under that same path (cached layers carry
 * their absolute container paths). A missing or corrupt cached layer is reported and `discard`ed; an entry
 * trying to leave `dest` ends the restorer.
 */
async function restoreData(
  o: RestoreOptions,
  cache: LayerCache,
  id: string,
  diffId: string,
  dest: string,
  discard: () => Promise<unknown>,
) {
  try {
    const tar = await cache.openLayer(diffId, id);
    const result = await extractLayer(tar, dest, {
      label: `${id} from the ${cache.name}`,
      strip: dest,
      compression: "none",
      ownership: o.owner ?? "none",
    });
    if (result.extracted === 0) {
      throw new CacheCorruptError(cache.name, id, diffId, `has nothing under ${dest}`);
    }
  } catch (err) {
    await discard();
    if (err instanceof CacheCorruptError) {
      o.log.warn(`${err.message}: not restoring it`);
      return;
    }
    if (err instanceof CnbpError && err.code === LAYER_READ) {
      o.log.warn(
        `${new CacheCorruptError(cache.name, id, diffId, `is corrupt: ${err.message}`).message}: not restoring it`,
      );
      return;
    }
    if (err instanceof CnbpError && err.code === LAYER_UNSAFE) {
      fail(`refusing the cached layer ${id}: ${err.message}`);
    }
    fail(`restoring the cached layer ${id}: ${errorText(err)}`);
  }
}

/**
 * Copies `<layers>/sbom/{cache,launch}/<bp>/<layer>/sbom.<ext>` to `<layers>/<bp>/<layer>.sbom.<ext>` for the
 * group's buildpacks that have a directory (launch ones last: they win), then deletes `<layers>/sbom`.
 */
async function restoreSboms(o: RestoreOptions) {
  const root = join(o.layersDir, "sbom");
  const ids = new Set(o.buildpacks.map((bp) => escapeId(bp.id)));
  const list = (dir: string) =>
    readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return [];
      throw err;
    });
  try {
    for (const kind of ["cache", "launch"]) {
      for (const bp of await list(join(root, kind))) {
        if (!bp.isDirectory() || !ids.has(bp.name)) continue;
        const bpDest = join(o.layersDir, bp.name);
        if (!(await lstat(bpDest).catch(() => undefined))?.isDirectory()) continue;
        for (const layer of await list(join(root, kind, bp.name))) {
          if (!layer.isDirectory()) continue;
          for (const file of await list(join(root, kind, bp.name, layer.name))) {
            // regular files only: a symlink in an SBOM dir is not followed
            if (!file.isFile() || !/^sbom.+json$/.test(file.name)) continue;
            const to = join(bpDest, `${layer.name}.${file.name}`);
            await copyFile(join(root, kind, bp.name, layer.name, file.name), to);
            if (o.owner) await chown(to, o.owner.uid, o.owner.gid);
          }
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
