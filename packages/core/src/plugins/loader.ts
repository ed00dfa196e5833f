/**
 * Imports the one driver a command selected (never the others) and checks that what its module exports is a
 * driver of the kinds its manifest declares, before anything calls it.
 */
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { BuildDriver, RuntimeDriver } from "../drivers/contract.js";
import { driverShapeProblems } from "../drivers/shape.js";
import { CnbpError, formatPath } from "../errors.js";
import { describeIssue } from "../spec/schema.js";
import type { FoundDriver } from "./discovery.js";

export type AnyDriver = RuntimeDriver | BuildDriver | (RuntimeDriver & BuildDriver);

export interface ImportedDriver {
  readonly found: FoundDriver;
  /** The module's default export: the driver with its default options. */
  readonly driver: AnyDriver;
  /** The module's `optionsSchema`, when it exports one. */
  readonly optionsSchema?: z.ZodType;
  readonly createDriver?: (options: unknown) => AnyDriver | Promise<AnyDriver>;
}

export type Importer = (url: string) => Promise<Record<string, unknown>>;
const nodeImport: Importer = (url) => import(url);

const isZodSchema = (v: unknown): v is z.ZodType =>
  typeof v === "object" && v !== null && "_zod" in v && typeof (v as z.ZodType).safeParse === "function";

/**
 * Imports `found`'s module. Throws CnbpError CNBP_DRIVER_BROKEN for a driver discovery marked broken,
 * CNBP_DRIVER_IMPORT when the import fails, CNBP_DRIVER_INVALID when the default export is not a driver of
 * the declared kinds or `optionsSchema`/`createDriver` are not what the contract says.
 */
export async function importDriver(
  found: FoundDriver,
  importer: Importer = nodeImport,
): Promise<ImportedDriver> {
  const who = `driver ${found.name} (package ${found.package})`;
  if (found.status !== "ok" || !found.module)
    throw new CnbpError("CNBP_DRIVER_BROKEN", `${who}: ${found.reason ?? "broken"}`, {
      hints: [`package directory: ${found.dir}`],
    });
  let mod: Record<string, unknown>;
  try {
    mod = await importer(pathToFileURL(found.module).href);
  } catch (err) {
    throw new CnbpError(
      "CNBP_DRIVER_IMPORT",
      `${who}: cannot import ${found.module}: ${(err as Error).message ?? String(err)}`,
      { cause: err },
    );
  }
  const invalid = (what: string) =>
    new CnbpError("CNBP_DRIVER_INVALID", `${who}: ${found.module}: ${what}`, {
      hints: [
        "a driver module exports the driver as default (see RuntimeDriver and BuildDriver in @cnbp/core)",
      ],
    });
  const problems = driverShapeProblems(mod.default, found.name, found.kinds);
  if (problems.length > 0) throw invalid(`the default export is not a cnbp driver: ${problems.join("; ")}`);
  const { optionsSchema, createDriver } = mod;
  if (optionsSchema !== undefined && !isZodSchema(optionsSchema))
    throw invalid("optionsSchema is not a zod schema");
  if (createDriver !== undefined && typeof createDriver !== "function")
    throw invalid("createDriver is not a function");
  if (optionsSchema !== undefined && createDriver === undefined)
    throw invalid("it exports optionsSchema but no createDriver(options)");
  return {
    found,
    driver: mod.default as AnyDriver,
    ...(optionsSchema !== undefined ? { optionsSchema: optionsSchema as z.ZodType } : {}),
    ...(createDriver !== undefined
      ? { createDriver: createDriver as (options: unknown) => AnyDriver | Promise<AnyDriver> }
      : {}),
  };
}

/** Where each option was set, named in messages: `--driver-opt`, `CNBP_DRIVER_OPTS`, `config file <path>`. */
export type DriverOptionSources = Readonly<Record<string, string>>;

/** Imports `found` and configures it with `options` (see `configureDriver`). */
export async function loadDriver(
  found: FoundDriver,
  options?: Readonly<Record<string, unknown>>,
  importer: Importer = nodeImport,
  sources: DriverOptionSources = {},
): Promise<AnyDriver> {
  return configureDriver(await importDriver(found, importer), options, sources);
}

/**
 * The driver to use: the default export when `options` is undefined, else `createDriver(options)` after
 * `optionsSchema` parsed them. String values become the numbers and booleans the schema asks for (options
 * from the environment and flags are text). Throws CNBP_DRIVER_OPTIONS naming the option, where it was set
 * (`sources`) and what it takes when they do not parse or the driver takes none, CNBP_DRIVER_INVALID when
 * `createDriver` returns something that is not the driver.
 */
export async function configureDriver(
  imported: ImportedDriver,
  options?: Readonly<Record<string, unknown>>,
  sources: DriverOptionSources = {},
): Promise<AnyDriver> {
  const { found } = imported;
  if (options === undefined) return imported.driver;
  const who = `driver ${found.name}`;
  const from = (key: string | number | undefined) =>
    key !== undefined && sources[key] ? ` (from ${sources[key]})` : "";
  const infoHint = `\`cnbp driver info ${found.name}\` shows the options it takes`;
  if (!imported.optionsSchema || !imported.createDriver) {
    const given = Object.keys(options).map((key) => `${key}${from(key)}`);
    throw new CnbpError(
      "CNBP_DRIVER_OPTIONS",
      `${who}: takes no options, but was given ${given.join(", ")}`,
      {
        hints: [
          `remove them from the config file's [drivers.${found.name}] table, CNBP_DRIVER_OPTS and --driver-opt`,
        ],
      },
    );
  }
  const json = optionsJsonSchema(imported.optionsSchema) as JsonSchema;
  const parsed = imported.optionsSchema.safeParse(coerceOptions(options, json), {
    reportInput: true,
    error: describeIssue,
  });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    if (first?.code === "unrecognized_keys") {
      const keys = first.keys.map((key) => `${JSON.stringify(key)}${from(key)}`);
      const takes = Object.keys(json.properties ?? {}).join(", ");
      throw new CnbpError(
        "CNBP_DRIVER_OPTIONS",
        `${who}: unknown option${keys.length > 1 ? "s" : ""} ${keys.join(", ")}; it takes: ${takes || "none"}`,
        { hints: [infoHint] },
      );
    }
    const path = (first?.path ?? []) as (string | number)[];
    const where = path.length > 0 ? `option ${formatPath(path)}${from(path[0])}` : "options";
    throw new CnbpError("CNBP_DRIVER_OPTIONS", `${who}: ${where} ${first?.message}`, { hints: [infoHint] });
  }
  const driver = await imported.createDriver(parsed.data);
  const problems = driverShapeProblems(driver, found.name, found.kinds);
  if (problems.length > 0)
    throw new CnbpError(
      "CNBP_DRIVER_INVALID",
      `${who} (package ${found.package}): createDriver returned something that is not a cnbp driver: ${problems.join("; ")}`,
    );
  return driver;
}

interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

/** String values as the booleans or numbers their property takes, when it takes no string and they read as one. */
function coerceOptions(
  options: Readonly<Record<string, unknown>>,
  json: JsonSchema,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).map(([key, value]) => {
      const property = json.properties?.[key];
      if (typeof value !== "string" || !property) return [key, value];
      const types = typesOf(property);
      if (types.has("string")) return [key, value];
      if (types.has("boolean") && (value === "true" || value === "false")) return [key, value === "true"];
      if ((types.has("number") || types.has("integer")) && /^-?\d+(\.\d+)?$/.test(value))
        return [key, Number(value)];
      return [key, value];
    }),
  );
}

function typesOf(schema: JsonSchema): Set<string> {
  const own = schema.type === undefined ? [] : [schema.type].flat();
  const nested = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  return new Set([...own, ...nested.flatMap((s) => [...typesOf(s)])]);
}

/** A driver's options as JSON Schema (what a user may write: defaults make fields optional). */
export function optionsJsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
}
