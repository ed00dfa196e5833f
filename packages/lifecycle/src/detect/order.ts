/**
 * The order the detector walks (shared/spec/buildpack.md 3.1, platform.md 4.2): order.toml's buildpack groups,
 * with system.toml's `pre` and `post` buildpacks merged into every group (Platform API 0.15), and the whole
 * extensions order prepended to every group as one always-optional element.
 */
import {
  apiAtLeast,
  type FileKind,
  type OrderFile,
  orderToml,
  readSpecFile,
  type SystemFile,
  systemToml,
} from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import type { ModuleKind } from "../modules/store.js";

/** A buildpack or extension named by an order group. */
export interface ModuleRef {
  readonly kind: ModuleKind;
  readonly id: string;
  readonly version: string;
  readonly optional: boolean;
  /** Execution environments the group entry is limited to (none: all). */
  readonly execEnv?: readonly string[];
}

/** The placeholder for the whole `[[order-extensions]]`, first in every buildpack group. */
export interface ExtensionsOrder {
  readonly kind: "extensions-order";
  readonly order: Order;
}

export type OrderElement = ModuleRef | ExtensionsOrder;
export type Group = readonly OrderElement[];
export type Order = readonly Group[];

export interface DetectOrder {
  readonly order: Order;
  /** The buildpack groups and extension groups as read, for checking every module before detection. */
  readonly modules: readonly ModuleRef[];
  readonly hasExtensions: boolean;
}

const fail = (message: string): never => {
  throw new LifecycleError(ExitCode.detect, `detector: ${message}`);
};

/** Reads order.toml (and system.toml from Platform API 0.15) into the order to detect. */
export async function readDetectOrder(
  orderPath: string,
  systemPath: string | undefined,
  platformApi: string,
): Promise<DetectOrder> {
  const file = await readOrRefuse(orderToml, orderPath, platformApi);
  if (!file) return fail(`reading the order: ${orderPath} does not exist`);
  const system =
    systemPath && apiAtLeast(platformApi, "0.15")
      ? await readOrRefuse(systemToml, systemPath, platformApi)
      : undefined;
  const buildpacks = mergeSystemBuildpacks(toOrder(file.order, "buildpack"), system);
  const extensions = toOrder(file["order-extensions"], "extension");
  const modules = [...buildpacks, ...extensions].flat() as ModuleRef[];
  return {
    order: prependExtensions(buildpacks, extensions),
    modules,
    hasExtensions: extensions.length > 0,
  };
}

/** A spec file, or undefined when it does not exist; invalid ones end detection naming file and field. */
async function readOrRefuse<T>(kind: FileKind<T>, path: string, platformApi: string): Promise<T | undefined> {
  try {
    return await readSpecFile(kind, path, { platformApi });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return fail(`reading ${kind.name}: ${(err as Error).message}`);
  }
}

type OrderGroups = OrderFile["order"];

function toOrder(groups: OrderGroups, kind: ModuleKind): ModuleRef[][] {
  return (groups ?? []).map((g) =>
    g.group.map((e) => ({
      kind,
      id: e.id,
      version: e.version,
      // extensions are always optional
      optional: kind === "extension" || e.optional === true,
      ...(e["exec-env"] ? { execEnv: e["exec-env"] } : {}),
    })),
  );
}

/**
 * `pre` buildpacks before and `post` buildpacks after every group, each only where the group does not already
 * have that id. Like the Go lifecycle, system buildpacks are required whatever their `optional` says.
 */
export function mergeSystemBuildpacks(order: ModuleRef[][], system: SystemFile | undefined): ModuleRef[][] {
  const refs = (list: NonNullable<SystemFile["system"]>["pre"]): ModuleRef[] =>
    (list?.buildpacks ?? []).map((b) => ({
      kind: "buildpack",
      id: b.id,
      version: b.version,
      optional: false,
    }));
  const pre = refs(system?.system?.pre);
  const post = refs(system?.system?.post);
  if (pre.length === 0 && post.length === 0) return order;
  return order.map((group) => {
    const absent = (bp: ModuleRef) => !group.some((e) => e.id === bp.id);
    return [...pre.filter(absent), ...group, ...post.filter(absent)];
  });
}

/** `[X] + G` for every buildpack group G, X standing for the whole extensions order (buildpack.md 3.1 step 2). */
export function prependExtensions(buildpacks: readonly Group[], extensions: Order): Order {
  if (extensions.length === 0) return buildpacks;
  const placeholder: ExtensionsOrder = { kind: "extensions-order", order: extensions };
  return buildpacks.map((group) => [placeholder, ...group]);
}
