/**
 * The Platform API a build speaks with the builder's lifecycle: the highest version both cnbp and the
 * lifecycle support (platform.md: the platform sets CNB_PLATFORM_API; the lifecycle refuses one it lacks).
 */
import { CnbpError } from "../errors.js";
import type { ApiSupport } from "../spec/kinds/label-builder-metadata.js";

/**
 * The Platform APIs cnbp drives: 0.12 is the first with OCI layout export (`-layout`), which puts images into
 * drivers' stores without a Docker socket; 0.15 is the newest the specs define.
 */
export const PLATFORM_APIS = ["0.12", "0.13", "0.14", "0.15"] as const;

const parts = (v: string) => v.split(".").map(Number) as [number, number];
const compare = (a: string, b: string) => {
  const [am, an] = parts(a);
  const [bm, bn] = parts(b);
  return am - bm || an - bn;
};

export function negotiatePlatformApi(builder: string, lifecycle: ApiSupport): string {
  const theirs = new Set([...lifecycle.supported, ...lifecycle.deprecated]);
  const common = PLATFORM_APIS.filter((v) => theirs.has(v)).sort(compare);
  const chosen = common.at(-1);
  if (chosen) return chosen;
  const listed = [...theirs].sort(compare).join(", ");
  throw new CnbpError(
    "CNBP_PLATFORM_API",
    listed
      ? `builder ${builder}: its lifecycle supports Platform API ${listed}, and cnbp speaks ${PLATFORM_APIS.join(", ")}`
      : `builder ${builder}: its metadata names no Platform API its lifecycle supports`,
    {
      hints: [
        "use a builder with a newer lifecycle, or give one with --lifecycle-image",
        "builders made with `cnbp builder create` carry cnbp's own lifecycle, which always fits",
      ],
    },
  );
}
