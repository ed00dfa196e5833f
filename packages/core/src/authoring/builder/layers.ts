/**
 * The builder's own small layers (distribution.md 3): the directories, `/cnb/order.toml`, `/cnb/system.toml`,
 * `/cnb/stack.toml`, `/cnb/run.toml` and the operator env in `/cnb/build-config/env/`. Each is its own
 * layer, as pack writes them, so a change to one leaves the others' digests alone.
 */
import type { LayerPart, LayerToWrite } from "../../image/index.js";
import { writeLayer } from "../../image/index.js";
import {
  type BuilderConfig,
  type OrderFile,
  orderToml,
  type RunFile,
  runToml,
  type StackFile,
  type SystemFile,
  serializeSpec,
  stackToml,
  systemToml,
} from "../../spec/index.js";
import type { Scratch } from "../scratch.js";

export interface SmallLayer {
  readonly what: string;
  readonly layer: LayerToWrite;
}

/** A layer of the builder made of `parts`, named `what` in the report. */
export async function builderLayer(
  what: string,
  parts: readonly LayerPart[],
  scratch: Scratch,
): Promise<SmallLayer> {
  const path = scratch.path(`${what}.tgz`);
  const r = await writeLayer(parts, path, { label: what });
  return {
    what,
    layer: {
      descriptor: { mediaType: r.mediaType, digest: r.digest, size: r.size },
      diffId: r.diffId,
      origin: { kind: "file", path },
    },
  };
}

const dir = (path: string, owner = { uid: 0, gid: 0 }) =>
  ({ kind: "directory", path, ...owner, mode: 0o755 }) as const;

const file = (path: string, content: string) =>
  ({ kind: "file", path, content, uid: 0, gid: 0, mode: 0o644 }) as const;

/** `/workspace` and `/layers` belong to the build user; the rest is root's; `/lifecycle` links the lifecycle. */
export function dirsLayer(user: { uid: number; gid: number }, scratch: Scratch): Promise<SmallLayer> {
  return builderLayer(
    "directories",
    [
      dir("/cnb"),
      dir("/cnb/build-config"),
      dir("/cnb/build-config/env"),
      dir("/cnb/buildpacks"),
      dir("/cnb/extensions"),
      dir("/layers", user),
      { kind: "symlink", path: "/lifecycle", target: "/cnb/lifecycle", uid: 0, gid: 0 },
      dir("/platform"),
      dir("/platform/env"),
      dir("/workspace", user),
    ],
    scratch,
  );
}

export function orderLayer(order: OrderFile, scratch: Scratch): Promise<SmallLayer> {
  return builderLayer("order", [file("/cnb/order.toml", serializeSpec(orderToml, order))], scratch);
}

export function systemLayer(system: SystemFile, scratch: Scratch): Promise<SmallLayer> {
  return builderLayer("system", [file("/cnb/system.toml", serializeSpec(systemToml, system))], scratch);
}

export function runLayer(run: RunFile, scratch: Scratch): Promise<SmallLayer> {
  return builderLayer("run", [file("/cnb/run.toml", serializeSpec(runToml, run))], scratch);
}

export function stackLayer(stack: StackFile, scratch: Scratch): Promise<SmallLayer> {
  return builderLayer("stack", [file("/cnb/stack.toml", serializeSpec(stackToml, stack))], scratch);
}

/**
 * `[[build.env]]`: `<NAME>[.<suffix>]` holding the value, and `<NAME>.delim` when a delimiter is given; the same
 * files whatever `exec-env` says, as only entries for every execution environment get here (./build-env.ts).
 */
export function buildEnvLayer(
  env: NonNullable<NonNullable<BuilderConfig["build"]>["env"]>,
  scratch: Scratch,
): Promise<SmallLayer> {
  const files = env.flatMap((e) => {
    const base = `/cnb/build-config/env/${e.name}`;
    return [
      file(e.suffix ? `${base}.${e.suffix}` : base, e.value),
      ...(e.delim ? [file(`${base}.delim`, e.delim)] : []),
    ];
  });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return builderLayer("build-config env", files, scratch);
}
