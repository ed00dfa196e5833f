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

/**
 * The driver to use: the default export when `options` is undefined, else `createDriver(options)` after
 * `optionsSchema` parsed them. Throws CNBP_DRIVER_OPTIONS naming the option when they do not parse (or the
 * driver takes none), CNBP_DRIVER_INVALID when `createDriver` returns something that is not the driver.
 */
export async function loadDriver(
  found: FoundDriver,
  options?: Readonly<Record<string, unknown>>,
  importer: Importer = nodeImport,
): Promise<AnyDriver> {
  const imported = await importDriver(found, importer);
  if (options === undefined) return imported.driver;
  const who = `driver ${found.name}`;
  if (!imported.optionsSchema || !imported.createDriver)
    throw new CnbpError("CNBP_DRIVER_OPTIONS", `${who}: takes no options`);
  const parsed = imported.optionsSchema.safeParse(options, { reportInput: true, error: describeIssue });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const path = formatPath((first?.path ?? []) as (string | number)[]);
    throw new CnbpError("CNBP_DRIVER_OPTIONS", `${who}: options: ${path ? `${path} ` : ""}${first?.message}`);
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

/** A driver's options as JSON Schema (what a user may write: defaults make fields optional). */
export function optionsJsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
}
