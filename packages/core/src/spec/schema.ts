/**
 * Building blocks shared by the file schemas, and the wording of problems.
 * Convention: a custom message is a predicate that follows the found value,
 * so a problem reads `buildpack.id "My BP" is not a valid id (...)`.
 */
import { z } from "zod";
import { isApiVersion } from "./api-version.js";

/** Renders a found value for a message: strings quoted, tables and arrays named. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "a table";
  return String(value);
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "object") return "a table";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  if (typeof value === "boolean") return "a boolean";
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean (true or false)",
  object: "a table",
  array: "an array",
  record: "a table",
};

/** Wording for zod's built-in issues (schema-level custom messages take precedence over this). */
export const describeIssue: z.core.$ZodErrorMap = (iss) => {
  const found = iss.input;
  switch (iss.code) {
    case "invalid_type": {
      if (found === undefined) return "is required";
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      const hint = iss.expected === "string" && typeof found === "number" ? ` (quote it: "${found}")` : "";
      return `must be ${expected}, found ${foundValue(found)}${hint}`;
    }
    case "too_small":
      if (iss.origin === "array")
        return `must have at least ${iss.minimum} entr${iss.minimum === 1 ? "y" : "ies"}`;
      if (iss.origin === "string") return "must not be empty";
      return `${show(found)} must be at least ${iss.minimum}`;
    case "too_big":
      if (iss.origin === "array") return `must have at most ${iss.maximum} entries`;
      return `${show(found)} must be at most ${iss.maximum}`;
    case "invalid_value":
      return `${show(found)} must be ${iss.values.length === 1 ? "" : "one of "}${iss.values.map((v) => show(v)).join(", ")}`;
    case "invalid_format":
      return `${show(found)} is not a valid ${iss.format}`;
    case "unrecognized_keys":
      return `has unknown field${iss.keys.length > 1 ? "s" : ""} ${iss.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "invalid_union":
      return `${show(found)} does not match any allowed form`;
    default:
      return undefined;
  }
};

/** A string check whose message names the found value. */
export function matching(pattern: RegExp, predicate: string) {
  return z.string().regex(pattern, { error: (iss) => `${show(iss.input)} ${predicate}` });
}

const RESERVED_IDS = new Set(["app", "config", "generated", "sbom"]);

/**
 * Buildpack and extension ids: letters, digits, '.', '/', '-' (Buildpack API spec), and not one of the
 * names the lifecycle uses for directories inside <layers>.
 */
export const moduleId = matching(
  /^[A-Za-z0-9./-]+$/,
  "is not a valid id (letters, digits, '.', '/', '-')",
).refine((id) => !RESERVED_IDS.has(id.toLowerCase()), {
  error: (iss) =>
    `${show(iss.input)} is reserved (app, config, generated and sbom name lifecycle directories)`,
});

/** Module versions in descriptors: `<X>.<Y>.<Z>`, non-negative integers without leading zeros. */
export const moduleVersion = matching(
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/,
  'is not a valid version (<X>.<Y>.<Z>, e.g. "1.2.0", no leading zeros)',
);

/** A version where one is referenced (orders, groups, labels): any non-empty string. */
export const versionRef = z.string().min(1);

/** An API version string: `<major>.<minor>` or `<major>`. */
export const apiVersionString = z.string().refine(isApiVersion, {
  error: (iss) => `${show(iss.input)} is not an API version (<major>.<minor>, e.g. "0.10")`,
});

/** A digest as CNB files carry them: `sha256:<64 hex>`. */
export const digest = matching(/^sha256:[a-f0-9]{64}$/, "is not a digest (sha256:<64 lowercase hex digits>)");

/** Free-form table (`[metadata]` and friends): any keys, never validated. */
export const freeTable = z.record(z.string(), z.unknown());

export const license = z
  .looseObject({ type: z.string().optional(), uri: z.string().optional() })
  .refine((l) => Boolean(l.type || l.uri), { error: "must have a type, a uri, or both" });

export const distro = z.looseObject({ name: z.string().optional(), version: z.string().optional() });

/**
 * A target (`[[targets]]`): empty fields mean "any". The spec and pack spell the variant key `variant`,
 * the Go lifecycle `arch-variant`; both are read.
 */
export const target = z.looseObject({
  os: z.string().optional(),
  arch: z.string().optional(),
  variant: z.string().optional(),
  "arch-variant": z.string().optional(),
  distros: z.array(distro).optional(),
});

/** One entry of an order group (order.toml, composite buildpack.toml, builder labels). */
export const groupEntry = z.looseObject({
  id: moduleId,
  version: versionRef.optional(),
  optional: z.boolean().optional(),
  "exec-env": z.array(z.string()).optional(),
});

export const orderGroups = z.array(z.looseObject({ group: z.array(groupEntry) }));

/** A process type (launch.toml, metadata.toml): letters, digits, '.', '_', '-' (Buildpack API spec). */
export const processType = matching(
  /^[A-Za-z0-9._-]+$/,
  "is not a valid process type (letters, digits, '.', '_', '-')",
);

/** The found value for a message: `an integer 5`, `a string "x"`, `a table`. */
export function foundValue(value: unknown): string {
  if (value === undefined || value === null || typeof value === "object") return typeName(value);
  return `${typeName(value)} ${show(value)}`;
}
