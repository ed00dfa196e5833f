/**
 * The builder a build runs on, as the runtime driver's store holds it: its labels (what it contains, its
 * lifecycle's APIs, its run images), the build user from CNB_USER_ID/CNB_GROUP_ID, and the Platform API
 * both sides speak.
 */
import type { ImageStore, PullPolicy, StoredImage } from "../drivers/contract.js";
import { DriverError } from "../drivers/errors.js";
import { CnbpError } from "../errors.js";
import { type BuilderInfo, builderInfo } from "../inspect/builder-info.js";
import { asInspected } from "../inspect/image-source.js";
import { readLabel } from "../inspect/labels.js";
import { buildpackLayersLabel, type ModuleLayers } from "../spec/index.js";
import { negotiatePlatformApi } from "./platform-api.js";
import type { Pull } from "./pulls.js";

export interface ResolvedBuilder {
  /** The reference the user gave. */
  readonly name: string;
  /** Its id in the store: steps run this exact image even when the tag moves during the build. */
  readonly id: string;
  readonly info: BuilderInfo;
  /** `io.buildpacks.buildpack.layers`: the buildpacks under its `/cnb/buildpacks`, by id and version. */
  readonly buildpackLayers: ModuleLayers;
  readonly uid: number;
  readonly gid: number;
  readonly platformApi: string;
  readonly os: string;
  readonly arch: string;
}

/** Pulls (per `policy`) and reads the builder; every problem is an error that says what to do. */
export async function resolveBuilder(
  images: ImageStore,
  name: string,
  pull: Pull,
  { policy, platform }: { readonly policy: PullPolicy; readonly platform?: string },
): Promise<ResolvedBuilder> {
  let stored: StoredImage;
  try {
    stored = await pull(images, name);
  } catch (err) {
    if (err instanceof DriverError && err.code === "CNBP_IMAGE_NOT_FOUND")
      throw new CnbpError("CNBP_BUILDER_NOT_FOUND", `builder ${name} was not found (${err.message})`, {
        hints: [
          "check the name, or make a builder with `cnbp builder create`",
          ...(policy === "never" ? ["--pull-policy never only looks in the driver's image store"] : []),
        ],
        cause: err,
      });
    throw err;
  }
  if (platform && !platformMatches(platform, stored))
    throw new CnbpError(
      "CNBP_BUILDER_TARGET",
      `builder ${name} is for ${stored.os}/${stored.arch}${stored.variant ? `/${stored.variant}` : ""}, not the --platform ${platform}`,
      {
        hints: [
          "the store's copy is for another platform: pull the right one with --pull-policy always",
          "or leave out --platform to build for the builder's own",
        ],
      },
    );
  const inspected = asInspected(name, stored);
  const info = builderInfo(inspected);
  const env = envOf(stored);
  const uid = idFrom(name, env, "CNB_USER_ID");
  const gid = idFrom(name, env, "CNB_GROUP_ID");
  if (!info.lifecycle.version && info.lifecycle.platformApis.supported.length === 0)
    throw new CnbpError("CNBP_BUILDER_NO_LIFECYCLE", `builder ${name} has no lifecycle in its metadata`, {
      hints: ["recreate it with `cnbp builder create`, which always adds one"],
    });
  return {
    name,
    id: stored.id,
    info,
    buildpackLayers: readLabel(inspected, buildpackLayersLabel) ?? {},
    uid,
    gid,
    platformApi: negotiatePlatformApi(`builder ${name}`, info.lifecycle.platformApis),
    os: stored.os,
    arch: stored.arch,
  };
}

/** Whether `os/arch[/variant]` names the image's platform (no variant given: any). */
export function platformMatches(
  platform: string,
  image: Pick<StoredImage, "os" | "arch" | "variant">,
): boolean {
  const [os, arch, variant] = platform.split("/");
  return os === image.os && arch === image.arch && (variant === undefined || variant === image.variant);
}

export function envOf(stored: StoredImage): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of stored.env) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

function idFrom(builder: string, env: Map<string, string>, key: string): number {
  const text = env.get(key);
  const id = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(id))
    throw new CnbpError(
      "CNBP_BUILDER_INVALID",
      `builder ${builder}: ${key} ${text === undefined ? "is not set in its environment" : `is ${JSON.stringify(text)}, not a number`}`,
      { hints: ["a builder's build image must set CNB_USER_ID and CNB_GROUP_ID (distribution spec)"] },
    );
  return id;
}
