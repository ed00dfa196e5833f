/**
 * Targets (shared/spec/buildpack.md 3.4): the run image's target from analyzed.toml, completed from the build
 * container's /etc/os-release and the lifecycle's own architecture; the targets a module supports, declared or
 * inferred; whether they match; and the CNB_TARGET_* variables modules get.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { apiAtLeast, type BuildpackDescriptor, type RunImageTarget, targetArchVariant } from "@cnbp/core";
import type { Module } from "../modules/store.js";

export interface Distro {
  readonly name?: string;
  readonly version?: string;
}

/** A target a module supports: an empty field matches anything. */
export interface ModuleTarget {
  readonly os?: string;
  readonly arch?: string;
  readonly variant?: string;
  readonly distros?: readonly Distro[];
}

/** The run image's target, as modules are matched against it and told about it. */
export interface BaseTarget {
  readonly os: string;
  readonly arch: string;
  readonly variant?: string;
  readonly distro?: Distro;
}

/** Node's names for architectures, in the OCI spelling (Go's GOARCH). */
const OCI_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", ppc64: "ppc64le" };

export const hostArch = (arch: string = process.arch) => OCI_ARCH[arch] ?? arch;

/** `ID` and `VERSION_ID` of an os-release file; values may be quoted. */
export function parseOsRelease(text: string): Distro {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) values.set(m[1] as string, (m[2] as string).replace(/^(["'])(.*)\1$/, "$2"));
  }
  const name = values.get("ID");
  const version = values.get("VERSION_ID");
  return { ...(name ? { name } : {}), ...(version ? { version } : {}) };
}

/**
 * analyzed.toml's run image target; when it has no distro, the distro comes from the build container's
 * os-release (a missing file is no distro) and a missing os or arch from the lifecycle's own platform.
 */
export async function baseTarget(
  target: RunImageTarget | undefined,
  osReleasePath = "/etc/os-release",
): Promise<BaseTarget> {
  const variant = target ? targetArchVariant(target) : undefined;
  const declared =
    target?.distro && (target.distro.name || target.distro.version) ? target.distro : undefined;
  const base = {
    os: target?.os || "linux",
    arch: target?.arch || hostArch(),
    ...(variant ? { variant } : {}),
  };
  if (declared) return { ...base, distro: pick(declared) };
  const text = await readFile(osReleasePath, "utf8").catch(() => "");
  const distro = parseOsRelease(text);
  return distro.name || distro.version ? { ...base, distro } : base;
}

const pick = (d: Distro): Distro => ({
  ...(d.name ? { name: d.name } : {}),
  ...(d.version ? { version: d.version } : {}),
});

/**
 * The targets a module supports: its `[[targets]]`; else, for buildpacks, the bionic stack (linux/amd64 ubuntu
 * 18.04, from Buildpack API 0.10 or when it is the only stack) and the `*` stack (anything); else the OS its
 * `bin/build` is for. Extensions without targets run on linux when they have executables, else anywhere.
 * An empty list means nothing was declared or inferred: the module matches any target.
 */
export async function moduleTargets(module: Module): Promise<ModuleTarget[]> {
  const declared = (module.descriptor.targets ?? []).map((t) => {
    const variant = t["arch-variant"] || t.variant;
    return {
      ...(t.os ? { os: t.os } : {}),
      ...(t.arch ? { arch: t.arch } : {}),
      ...(variant ? { variant } : {}),
      ...(t.distros?.length ? { distros: t.distros.map(pick) } : {}),
    };
  });
  if (declared.length > 0) return declared;
  const bin = await readdir(join(module.dir, "bin")).catch(() => [] as string[]);
  if (module.kind === "extension") {
    return bin.includes("detect") || bin.includes("generate") ? [{ os: "linux" }] : [{}];
  }
  const stacks = (module.descriptor as BuildpackDescriptor).stacks ?? [];
  const fromStacks: ModuleTarget[] = [];
  for (const stack of stacks) {
    if (
      stack.id === "io.buildpacks.stacks.bionic" &&
      (apiAtLeast(module.api, "0.10") || stacks.length === 1)
    ) {
      fromStacks.push({ os: "linux", arch: "amd64", distros: [{ name: "ubuntu", version: "18.04" }] });
    } else if (stack.id === "*") fromStacks.push({});
  }
  if (fromStacks.length > 0) return fromStacks;
  if (bin.includes("build")) return [{ os: "linux" }];
  if (bin.includes("build.bat") || bin.includes("build.exe")) return [{ os: "windows" }];
  return [];
}

const same = (a: string | undefined, b: string | undefined) => !a || !b || a === b;

/** os, arch and variant each equal or empty on either side; and one of the module's distros, if it lists any. */
export function targetMatches(base: BaseTarget, target: ModuleTarget): boolean {
  if (!same(base.os, target.os) || !same(base.arch, target.arch) || !same(base.variant, target.variant)) {
    return false;
  }
  if (!target.distros?.length) return true;
  const distro = base.distro;
  if (!distro) return false;
  return target.distros.some((d) => same(distro.name, d.name) && same(distro.version, d.version));
}

/** `linux/arm64/v8 (ubuntu 22.04)`: a target as messages show it; `*` for an empty field. */
export function describeTarget(t: ModuleTarget | BaseTarget): string {
  const platform = [t.os || "*", t.arch || "*", ...(t.variant ? [t.variant] : [])].join("/");
  const distros: readonly Distro[] =
    "distros" in t ? (t.distros ?? []) : "distro" in t && t.distro ? [t.distro] : [];
  const names = distros.map((d) => [d.name || "*", d.version || "*"].join(" "));
  return names.length > 0 ? `${platform} (${names.join(", ")})` : platform;
}

/** CNB_TARGET_* for modules of Buildpack API 0.10 and newer; optional ones only when known. */
export function targetEnv(base: BaseTarget): Record<string, string> {
  return {
    CNB_TARGET_OS: base.os,
    CNB_TARGET_ARCH: base.arch,
    ...(base.variant ? { CNB_TARGET_ARCH_VARIANT: base.variant } : {}),
    ...(base.distro?.name ? { CNB_TARGET_DISTRO_NAME: base.distro.name } : {}),
    ...(base.distro?.version ? { CNB_TARGET_DISTRO_VERSION: base.distro.version } : {}),
  };
}
