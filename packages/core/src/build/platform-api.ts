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

/**
 * The newest Platform API cnbp and every lifecycle the build runs speak: the builder's, and a
 * `--lifecycle-image`'s when there is one. `what` names the lifecycles' owners in the error.
 */
export function negotiatePlatformApi(what: string, ...lifecycles: ApiSupport[]): string {
  const theirs = lifecycles.map((l) => new Set([...l.supported, ...l.deprecated]));
  const common = PLATFORM_APIS.filter((v) => theirs.every((t) => t.has(v))).sort(compare);
  const chosen = common.at(-1);
  if (chosen) return chosen;
  const listed = lifecycles.map((l) => [...l.supported, ...l.deprecated].sort(compare).join(", "));
  throw new CnbpError(
    "CNBP_PLATFORM_API",
    listed.every((l) => l === "")
      ? `${what}: its metadata names no Platform API its lifecycle supports`
      : `${what}: ${lifecycles.length > 1 ? "their lifecycles support" : "its lifecycle supports"} Platform API ${listed.map((l) => l || "none").join(" and ")}, and cnbp speaks ${PLATFORM_APIS.join(", ")}`,
    {
      hints: [
        "use a builder (or lifecycle image) with a newer lifecycle",
        "builders made with `cnbp builder create` carry cnbp's own lifecycle, which always fits",
      ],
    },
  );
}
