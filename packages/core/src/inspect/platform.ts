/** The platform inspect shows of a multi-platform image: the one asked for (`--platform`), else the host's. */
import { UsageError } from "../errors.js";
import type { PlatformWanted } from "../image/layout/reader.js";
import type { TargetSummary } from "./modules.js";

/** Node's names for the architectures whose OCI names differ. */
const OCI_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", ppc64: "ppc64le" };

/** Linux on this machine's architecture: builders are Linux images, and engines on other hosts run them in a Linux VM. */
export function hostPlatform(arch: string = process.arch): PlatformWanted {
  return { os: "linux", architecture: OCI_ARCH[arch] ?? arch };
}

/** `os/arch[/variant]`, as `flag` gives it; a usage error naming the flag otherwise. */
export function parsePlatform(text: string, flag: string): PlatformWanted {
  const [os, architecture, variant, ...rest] = text.split("/");
  if (!os || !architecture || variant === "" || rest.length) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} must be os/arch or os/arch/variant, e.g. linux/arm64`,
    );
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** Whether a target is the platform wanted; a variant only counts when one is wanted. */
export function isPlatform(t: TargetSummary, wanted: PlatformWanted): boolean {
  return (
    t.os === wanted.os && t.arch === wanted.architecture && (!wanted.variant || t.variant === wanted.variant)
  );
}

export const platformText = (p: PlatformWanted) =>
  [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join("/");

export const targetPlatformText = (t: TargetSummary) =>
  [t.os ?? "*", t.arch ?? "*", ...(t.variant ? [t.variant] : [])].join("/");
