/**
 * `CNB_TARGET_*` for buildpacks of Buildpack API >= 0.10 (shared/spec/buildpack.md 3.4): the run image's
 * target from analyzed.toml; when it has no distro, the distro (and a missing os/arch) of the build container
 * itself, from /etc/os-release and the lifecycle's own architecture, as the Go lifecycle does.
 */
import { readFile } from "node:fs/promises";
import { type RunImageTarget, targetArchVariant } from "@cnbp/core";

export const OS_RELEASE = "/etc/os-release";

/** Node's names for architectures, in Go's (GOARCH) spelling, which target data uses. */
const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", ppc64: "ppc64le" };

export async function targetEnv(
  target: RunImageTarget | undefined,
  osReleasePath: string = OS_RELEASE,
): Promise<Record<string, string>> {
  let os = target?.os ?? "";
  let arch = target?.arch ?? "";
  let distro = target?.distro;
  if (!distro) {
    os ||= "linux";
    arch ||= GO_ARCH[process.arch] ?? process.arch;
    distro = await readOsRelease(osReleasePath);
  }
  const env: Record<string, string> = { CNB_TARGET_OS: os, CNB_TARGET_ARCH: arch };
  const optional = {
    CNB_TARGET_ARCH_VARIANT: target ? targetArchVariant(target) : undefined,
    CNB_TARGET_DISTRO_NAME: distro?.name,
    CNB_TARGET_DISTRO_VERSION: distro?.version,
  };
  for (const [name, value] of Object.entries(optional)) if (value) env[name] = value;
  return env;
}

/** `ID` and `VERSION_ID` of an os-release file (quotes trimmed); nothing when the file is missing. */
async function readOsRelease(path: string): Promise<{ name?: string; version?: string } | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const value = (key: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${key}=`));
    return line?.slice(key.length + 1).replace(/^["' ]+|["' ]+$/g, "") || undefined;
  };
  const name = value("ID");
  const version = value("VERSION_ID");
  return name || version ? { ...(name ? { name } : {}), ...(version ? { version } : {}) } : undefined;
}
