/** Checks that a value a driver module exported looks like a driver of the kinds its manifest declares. */
import { DRIVER_API_VERSION, type DriverKind } from "./contract.js";

const RUNTIME_METHODS = ["info", "workspace"] as const;
const IMAGE_METHODS = ["inspect", "pull", "importOciLayout", "exportOciLayout", "tag", "remove"] as const;
const VOLUME_METHODS = ["list", "remove"] as const;
const CAPABILITIES = [
  "rootless",
  "ociLayoutImport",
  "ociLayoutExport",
  "bindMounts",
  "registryOnly",
] as const;

const isObject = (v: unknown): v is Record<PropertyKey, unknown> =>
  (typeof v === "object" && v !== null) || typeof v === "function";

/**
 * What is missing or wrong for `value` to be a driver named `name` of `kinds`, one phrase per problem
 * (e.g. `images.pull is not a function`); empty when it fits. Checks shapes only, never calls anything.
 */
export function driverShapeProblems(value: unknown, name: string, kinds: readonly DriverKind[]): string[] {
  if (!isObject(value)) return [`it is ${value === null ? "null" : typeof value}, not an object`];
  const problems: string[] = [];
  const fn = (obj: Record<PropertyKey, unknown>, key: PropertyKey, label: string) => {
    if (typeof obj[key] !== "function") problems.push(`${label} is not a function`);
  };
  if (value.apiVersion !== DRIVER_API_VERSION)
    problems.push(
      value.apiVersion === undefined
        ? "apiVersion is missing"
        : `apiVersion is ${JSON.stringify(value.apiVersion)}, not ${DRIVER_API_VERSION}`,
    );
  if (value.name !== name)
    problems.push(
      value.name === undefined
        ? "name is missing"
        : `name is ${JSON.stringify(value.name)}, not ${JSON.stringify(name)} as in the manifest`,
    );
  const caps = value.capabilities;
  if (!isObject(caps)) problems.push("capabilities is missing");
  else {
    for (const key of CAPABILITIES)
      if (typeof caps[key] !== "boolean") problems.push(`capabilities.${key} is not a boolean`);
    if (!Array.isArray(caps.sharesImageStoreWith))
      problems.push("capabilities.sharesImageStoreWith is not an array");
    if (!Array.isArray(caps.networks)) problems.push("capabilities.networks is not an array");
  }
  fn(value, Symbol.asyncDispose, "[Symbol.asyncDispose]");
  const images = () => {
    if (!isObject(value.images)) problems.push("images is missing");
    else for (const m of IMAGE_METHODS) fn(value.images, m, `images.${m}`);
  };
  if (kinds.includes("runtime")) {
    for (const m of RUNTIME_METHODS) fn(value, m, m);
    images();
    if (!isObject(value.volumes)) problems.push("volumes is missing");
    else for (const m of VOLUME_METHODS) fn(value.volumes, m, `volumes.${m}`);
  }
  if (kinds.includes("build")) {
    // a build driver has the store it builds into, whether or not it is a runtime driver too
    if (!kinds.includes("runtime")) images();
    fn(value, "build", "build");
  }
  return problems;
}
