/**
 * The settings of a config as dotted keys, what `cnbp config get/set/unset/list` address: `driver`,
 * `default-builder`, `pull-policy`, `trusted-builders` (a comma list on `set`) and `drivers.<driver>.<option>`.
 * Every change returns new values, checked against the schema, so a bad value never reaches the file.
 */
import { formatPath, UsageError } from "../errors.js";
import { InvalidReferenceError, parseReference, sameImage } from "../image/reference.js";
import { validateSpec } from "../spec/file-kind.js";
import { type CnbpConfig, configFileKind, OPTION_KEY } from "./schema.js";

type Scalar = string | number | boolean;
export type ConfigValue = Scalar | readonly string[] | Readonly<Record<string, unknown>>;

const TOP_KEYS = ["driver", "default-builder", "pull-policy", "trusted-builders"] as const;
type TopKey = (typeof TOP_KEYS)[number];

/** What `key` addresses: a top-level setting, every driver's tables, one driver's table, or one option. */
type Address =
  | { kind: "top"; key: TopKey }
  | { kind: "drivers" }
  | { kind: "driver"; driver: string }
  | { kind: "option"; driver: string; option: string };

const KEYS_HINT = `config keys: ${TOP_KEYS.join(", ")}, drivers.<driver>.<option>`;

function address(key: string): Address {
  if ((TOP_KEYS as readonly string[]).includes(key)) return { kind: "top", key: key as TopKey };
  const parts = key.split(".");
  if (parts[0] === "drivers" && parts.every((p) => p !== "")) {
    const [, driver, option] = parts;
    if (parts.length === 1) return { kind: "drivers" };
    if (parts.length === 2 && driver) return { kind: "driver", driver };
    if (parts.length === 3 && driver && option && OPTION_KEY.test(option))
      return { kind: "option", driver, option };
  }
  throw new UsageError(`unknown config key ${JSON.stringify(key)}`, { hints: [KEYS_HINT] });
}

/** The value at `key`, or undefined when it is not set. */
export function getConfigValue(values: CnbpConfig, key: string): ConfigValue | undefined {
  const at = address(key);
  switch (at.kind) {
    case "top":
      return values[at.key];
    case "drivers":
      return values.drivers;
    case "driver":
      return values.drivers?.[at.driver];
    case "option":
      return values.drivers?.[at.driver]?.[at.option];
  }
}

/**
 * `values` with `key` set to `text` as a user types it: `trusted-builders` takes a comma list, a driver
 * option is stored as the string given (a driver's options are converted to the types its schema asks for
 * when it is loaded). Throws UsageError naming the key and what it takes.
 */
export function setConfigValue(values: CnbpConfig, key: string, text: string): CnbpConfig {
  const at = address(key);
  let next: CnbpConfig;
  if (at.kind === "top")
    next = {
      ...values,
      [at.key]:
        at.key === "trusted-builders"
          ? text
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s !== "")
          : text,
    };
  else if (at.kind === "option")
    next = {
      ...values,
      drivers: {
        ...values.drivers,
        [at.driver]: { ...values.drivers?.[at.driver], [at.option]: text },
      },
    };
  else
    throw new UsageError(
      `${key} is a table: set one option, e.g. ${key === "drivers" ? "drivers.podman" : key}.bin`,
      {
        hints: [KEYS_HINT],
      },
    );
  return checked(next);
}

/** `values` without `key` (and without driver tables left empty); unsetting what is not set changes nothing. */
export function unsetConfigValue(values: CnbpConfig, key: string): CnbpConfig {
  const at = address(key);
  const next: { -readonly [K in keyof CnbpConfig]: CnbpConfig[K] } = { ...values };
  if (at.kind === "top") delete next[at.key];
  else if (at.kind === "drivers") delete next.drivers;
  else {
    const drivers = { ...values.drivers };
    if (at.kind === "driver") delete drivers[at.driver];
    else if (drivers[at.driver]) {
      const { [at.option]: _removed, ...rest } = drivers[at.driver] ?? {};
      drivers[at.driver] = rest;
      if (Object.keys(rest).length === 0) delete drivers[at.driver];
    }
    if (Object.keys(drivers).length === 0) delete next.drivers;
    else next.drivers = drivers;
  }
  return next;
}

/** Every setting as `[dotted key, value]`: top-level keys in schema order, then each driver option by name. */
export function listConfig(values: CnbpConfig): [string, ConfigValue][] {
  const top = TOP_KEYS.flatMap((key): [string, ConfigValue][] => {
    const value = values[key];
    return value === undefined ? [] : [[key, value]];
  });
  const options = Object.entries(values.drivers ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([driver, opts]) =>
      Object.entries(opts).map(([option, value]): [string, ConfigValue] => [
        `drivers.${driver}.${option}`,
        value,
      ]),
    );
  return [...top, ...options];
}

/** Whether `image` names a builder the config trusts (references compared normalised: `me/b` is `docker.io/me/b:latest`). */
export function isTrustedBuilder(values: CnbpConfig, image: string): boolean {
  return (values["trusted-builders"] ?? []).some((b) => sameImage(b, image));
}

/** `values` trusting `image` too; unchanged (same object) when it is trusted already. */
export function addTrustedBuilder(values: CnbpConfig, image: string): CnbpConfig {
  checkImage(image);
  if (isTrustedBuilder(values, image)) return values;
  return checked({ ...values, "trusted-builders": [...(values["trusted-builders"] ?? []), image] });
}

/** `values` no longer trusting `image` (every entry naming the same image); throws UsageError when it is not trusted. */
export function removeTrustedBuilder(values: CnbpConfig, image: string): CnbpConfig {
  checkImage(image);
  if (!isTrustedBuilder(values, image))
    throw new UsageError(`${image} is not a trusted builder`, {
      hints: ["`cnbp config trusted-builders list` shows the trusted builders"],
    });
  const rest = (values["trusted-builders"] ?? []).filter((b) => !sameImage(b, image));
  const next: { -readonly [K in keyof CnbpConfig]: CnbpConfig[K] } = { ...values, "trusted-builders": rest };
  if (rest.length === 0) delete next["trusted-builders"];
  return next;
}

/** Throws UsageError with the first problem, named by its key (`pull-policy "x" must be one of ...`). */
function checked(values: CnbpConfig): CnbpConfig {
  const result = validateSpec(configFileKind, values, "config");
  const first = result.problems.find((p) => p.severity === "error");
  if (!result.ok || first) throw new UsageError(`${formatPath(first?.path ?? [])} ${first?.message}`);
  return result.value;
}

function checkImage(image: string): void {
  try {
    parseReference(image);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new UsageError(err.message);
    throw err;
  }
}
