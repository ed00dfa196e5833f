/**
 * A driver package's declaration: the `cnbp` field of its package.json. Everything discovery needs is in it,
 * so listing drivers never imports driver code.
 *
 * ```json
 * { "name": "cnbp-driver-nerdctl", "keywords": ["cnbp-driver"],
 *   "cnbp": { "apiVersion": 1, "drivers": [ { "name": "nerdctl", "kinds": ["runtime", "build"], "module": "./dist/index.js" } ] } }
 * ```
 */
import { z } from "zod";
import { DRIVER_API_VERSION, DRIVER_KINDS } from "../drivers/contract.js";
import { formatPath } from "../errors.js";
import { describeIssue, matching, show } from "../spec/schema.js";

/** The keyword third-party driver packages carry, so `npm search` finds them. */
export const DRIVER_KEYWORD = "cnbp-driver";

export const driverName = matching(
  /^[a-z][a-z0-9-]*$/,
  "is not a valid driver name (lowercase letters, digits and '-', starting with a letter)",
);

const modulePath = z.string().refine((m) => m.startsWith("./") && !m.split(/[\\/]/).includes(".."), {
  error: (iss) => `${show(iss.input)} must be a path inside the package starting with "./"`,
});

export const DriverDeclaration = z.strictObject({
  name: driverName,
  kinds: z
    .array(z.enum(DRIVER_KINDS as ["runtime", "build"]))
    .min(1)
    .refine((k) => new Set(k).size === k.length, { error: "lists a kind twice" }),
  module: modulePath,
});
export type DriverDeclaration = z.infer<typeof DriverDeclaration>;

export const DriverManifest = z.strictObject({
  apiVersion: z.literal(DRIVER_API_VERSION),
  drivers: z
    .array(DriverDeclaration)
    .min(1)
    .superRefine((drivers, ctx) => {
      drivers.forEach((d, i) => {
        const first = drivers.findIndex((o) => o.name === d.name);
        if (first < i)
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: `${show(d.name)} is already declared by drivers[${first}]`,
          });
      });
    }),
});
export type DriverManifest = z.infer<typeof DriverManifest>;

export type ManifestCheck =
  | { readonly ok: true; readonly manifest: DriverManifest }
  | { readonly ok: false; readonly reason: string; readonly names: readonly string[] };

/**
 * Validates a package.json's `cnbp` field. A failure carries one reason naming the field
 * (`invalid manifest: cnbp.drivers[0].kinds[0] "x" must be one of "runtime", "build"`) and the driver names
 * that could still be read, so a broken package is listed under the names it meant to provide.
 */
export function checkManifest(cnbp: unknown): ManifestCheck {
  const names = readableNames(cnbp);
  const apiVersion = (cnbp as { apiVersion?: unknown } | null)?.apiVersion;
  if (typeof apiVersion === "number" && apiVersion !== DRIVER_API_VERSION)
    return {
      ok: false,
      names,
      reason: `unsupported apiVersion ${apiVersion} (this cnbp supports ${DRIVER_API_VERSION})`,
    };
  const result = DriverManifest.safeParse(cnbp, { reportInput: true, error: describeIssue });
  if (result.success) return { ok: true, manifest: result.data };
  const reasons = result.error.issues.map((iss) => {
    const path = formatPath(["cnbp", ...(iss.path as (string | number)[])]);
    return `${path} ${iss.message}`;
  });
  const more = reasons.length > 1 ? ` (and ${reasons.length - 1} more)` : "";
  return { ok: false, names, reason: `invalid manifest: ${reasons[0]}${more}` };
}

function readableNames(cnbp: unknown): string[] {
  const drivers = (cnbp as { drivers?: unknown } | null)?.drivers;
  if (!Array.isArray(drivers)) return [];
  return drivers.flatMap((d) => {
    const name = (d as { name?: unknown } | null)?.name;
    return typeof name === "string" && name !== "" ? [name] : [];
  });
}
