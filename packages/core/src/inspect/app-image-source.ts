/**
 * Finding an app image where pack looks for one: in the runtime driver's image store (local) and in its
 * registry (remote). Each side answers on its own: found, absent, or what went wrong there.
 */
import type { ImageStore } from "../drivers/contract.js";
import { CnbpError, type ErrorCode } from "../errors.js";
import { parseReference } from "../image/reference.js";
import type { RegistryClient } from "../image/registry/client.js";
import { RegistryBackend } from "../image/store/registry-backend.js";
import { type AppImageInfo, appImageInfo } from "./app-image.js";

export {
  APP_IMAGE_LABELS,
  type AppImageConfig,
  type AppImageInfo,
  type AppImageModule,
  type AppImageProcess,
  appImageInfo,
  type LifecycleLabel,
  readLifecycleLabel,
} from "./app-image.js";

export interface LookupError {
  readonly code: string;
  readonly message: string;
  readonly hints: readonly string[];
}

/** One side's answer: the image, or why there is none (absent, an error there, or not looked at). */
export type AppImageLookup =
  | ({
      readonly status: "found";
      readonly where: string;
      /** The config's digest: the image id in a store. */
      readonly id: string;
      /** The manifest's digest, when known (always in a registry; in a store after a pull or push). */
      readonly digest?: string;
    } & AppImageInfo)
  | { readonly status: "absent"; readonly where: string }
  | { readonly status: "failed"; readonly where: string; readonly error: LookupError }
  | { readonly status: "skipped"; readonly reason: string };

export interface AppImageInspection {
  readonly image: string;
  readonly remote: AppImageLookup;
  readonly local: AppImageLookup;
}

export interface AppImageSources {
  /** The driver's store and its name, for messages ("podman's image store"). */
  readonly store: { readonly images: ImageStore; readonly name: string };
  readonly registry: RegistryClient;
}

/**
 * Looks `image` up in the store and, when its name has a registry host, in that registry. When neither has
 * an app image, throws what went wrong (CNBP_NOT_APP_IMAGE, a registry's error), else CNBP_IMAGE_NOT_FOUND
 * naming where it looked.
 */
export async function inspectAppImage(image: string, sources: AppImageSources): Promise<AppImageInspection> {
  const [local, remote] = await Promise.all([
    inStore(image, sources.store),
    inRegistry(image, sources.registry),
  ]);
  if (local.status === "found" || remote.status === "found") return { image, remote, local };
  // nothing to show: say what went wrong, the store's problem first
  for (const side of [local, remote])
    if (side.status === "failed")
      throw new CnbpError(side.error.code as ErrorCode, `inspect: ${side.error.message}`, {
        hints: side.error.hints,
      });
  const places = [local, remote].flatMap((side) => (side.status === "absent" ? [side.where] : []));
  throw new CnbpError(
    "CNBP_IMAGE_NOT_FOUND",
    `inspect: ${image} was not found in ${places.join(" or in ")}`,
    {
      hints: ["check the name; images are made with `cnbp build` (add --publish to push them to a registry)"],
    },
  );
}

async function inStore(image: string, store: AppImageSources["store"]): Promise<AppImageLookup> {
  const where = `${store.name}'s image store`;
  try {
    const stored = await store.images.inspect(image);
    if (!stored) return { status: "absent", where };
    const info = appImageInfo(
      {
        labels: stored.labels,
        env: stored.env,
        os: stored.os,
        arch: stored.arch,
        ...(stored.variant ? { variant: stored.variant } : {}),
      },
      `${image} in ${where}`,
    );
    const digest = stored.repoDigests[0]?.split("@")[1];
    return { status: "found", where, id: stored.id, ...(digest ? { digest } : {}), ...info };
  } catch (err) {
    return { status: "failed", where, error: asError(err) };
  }
}

async function inRegistry(image: string, client: RegistryClient): Promise<AppImageLookup> {
  if (!namesRegistry(image)) return { status: "skipped", reason: "the name has no registry host" };
  const where = `registry ${parseReference(image).registry}`;
  try {
    const found = await new RegistryBackend(client).find(image);
    if (!found) return { status: "absent", where };
    const { config } = found;
    const info = appImageInfo(
      {
        labels: config.config?.Labels ?? {},
        env: config.config?.Env ?? [],
        ...(config.config?.Entrypoint ? { entrypoint: config.config.Entrypoint } : {}),
        os: config.os,
        arch: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
      },
      `${image} in ${where}`,
    );
    return {
      status: "found",
      where,
      id: found.manifest.config.digest,
      digest: found.manifestDigest,
      ...info,
    };
  } catch (err) {
    return { status: "failed", where, error: asError(err) };
  }
}

/** Like Docker: the first component names a registry when it has a '.' or a ':' ("localhost" alone is Podman's store). */
function namesRegistry(name: string): boolean {
  const slash = name.indexOf("/");
  if (slash < 0) return false;
  const first = name.slice(0, slash);
  return first.includes(".") || first.includes(":");
}

function asError(err: unknown): LookupError {
  // a CnbpError, or one from another copy of core (a driver's): known failures, shown on their side
  const e = err as { code?: unknown; message?: unknown; hints?: unknown };
  if (typeof e?.code === "string" && e.code.startsWith("CNBP_") && typeof e.message === "string")
    return { code: e.code, message: e.message, hints: Array.isArray(e.hints) ? (e.hints as string[]) : [] };
  throw err;
}
