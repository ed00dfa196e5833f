import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { CnbpError } from "../errors.js";
import type { FoundDriver } from "./discovery.js";
import { DriverDiscovery } from "./discovery.js";
import { importDriver, loadDriver } from "./loader.js";
import { driverPackageJson, minimalDriverSource, writePackage } from "./test-support/packages.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cnbp-loader-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes one driver package whose module is `source` and returns what discovery reports for it. */
async function found(name: string, kinds: string[], source: string): Promise<FoundDriver> {
  const dir = await writePackage(join(root, name), {
    "package.json": driverPackageJson(`cnbp-driver-${name}`, [{ name, kinds, module: "./index.js" }]),
    "index.js": source,
  });
  const { drivers } = await new DriverDiscovery([], { CNBP_PLUGIN_PATH: dir }, root).discover();
  const d = drivers[0];
  if (!d) throw new Error(`no driver found in ${dir}`);
  return d;
}

const rejection = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CnbpError)) throw new Error(`expected a CnbpError, got ${String(err)}`);
  return { code: err.code, message: err.message };
};

describe("importDriver and loadDriver", () => {
  it("imports a real module whose default export is a driver", async () => {
    const d = await found("mini", ["runtime", "build"], minimalDriverSource("mini"));
    const imported = await importDriver(d);
    expect(imported.driver.name).toBe("mini");
    expect(imported.optionsSchema).toBeUndefined();
    expect(await (await loadDriver(d)).capabilities.rootless).toBe(true);
  });

  it("says what is missing when the default export is not a driver", async () => {
    const d = await found("plain", ["runtime"], `export default { hello: "world" };\n`);
    expect(await rejection(importDriver(d))).toEqual({
      code: "CNBP_DRIVER_INVALID",
      message:
        `driver plain (package cnbp-driver-plain): ${d.module}: the default export is not a cnbp driver: ` +
        "apiVersion is missing; name is missing; capabilities is missing; [Symbol.asyncDispose] is not a function; " +
        "info is not a function; workspace is not a function; images is missing; volumes is missing",
    });
  });

  it("checks the methods of the declared kinds only", async () => {
    const buildOnly = minimalDriverSource("half").replace("build: noop,", "");
    const asRuntime = await found("half", ["runtime"], buildOnly);
    expect((await importDriver(asRuntime)).driver.name).toBe("half");
    const asBuild = await found("halfb", ["build"], buildOnly.replace('"half"', '"halfb"'));
    expect((await rejection(importDriver(asBuild))).message).toBe(
      `driver halfb (package cnbp-driver-halfb): ${asBuild.module}: the default export is not a cnbp driver: build is not a function`,
    );
  });

  it("refuses another apiVersion or a name the manifest does not declare", async () => {
    const source = minimalDriverSource("other").replace("apiVersion: 1", "apiVersion: 2");
    const d = await found("named", ["build"], source);
    expect((await rejection(importDriver(d))).message).toBe(
      `driver named (package cnbp-driver-named): ${d.module}: the default export is not a cnbp driver: ` +
        'apiVersion is 2, not 1; name is "other", not "named" as in the manifest',
    );
  });

  it("names the file and the package when the import fails, and refuses broken drivers", async () => {
    const d = await found("syntax", ["build"], "export default {;\n");
    const err = await rejection(importDriver(d));
    expect(err.code).toBe("CNBP_DRIVER_IMPORT");
    expect(
      err.message.startsWith(`driver syntax (package cnbp-driver-syntax): cannot import ${d.module}: `),
    ).toBe(true);
    const broken: FoundDriver = { ...d, status: "broken", reason: "module file ./index.js is missing" };
    expect(await rejection(importDriver(broken))).toEqual({
      code: "CNBP_DRIVER_BROKEN",
      message: "driver syntax (package cnbp-driver-syntax): module file ./index.js is missing",
    });
  });

  it("parses options with the module's optionsSchema and passes them to createDriver", async () => {
    const d = await found("opts", ["build"], minimalDriverSource("opts"));
    const mod = await import(d.module as string);
    const optionsSchema = z.strictObject({ socket: z.string(), privileged: z.boolean().default(false) });
    const seen: unknown[] = [];
    const importer = async () => ({
      ...mod,
      optionsSchema,
      createDriver: (options: unknown) => {
        seen.push(options);
        return mod.default;
      },
    });
    expect((await importDriver(d, importer)).optionsSchema).toBe(optionsSchema);
    await loadDriver(d, { socket: "/run/x.sock" }, importer);
    expect(seen).toEqual([{ socket: "/run/x.sock", privileged: false }]);
    expect(await rejection(loadDriver(d, { socket: 1 }, importer))).toEqual({
      code: "CNBP_DRIVER_OPTIONS",
      message: 'driver opts: option socket must be a string, found an integer 1 (quote it: "1")',
    });
    expect(await rejection(loadDriver(d, { socket: "x" }, undefined, { socket: "--driver-opt" }))).toEqual({
      code: "CNBP_DRIVER_OPTIONS",
      message: "driver opts: takes no options, but was given socket (from --driver-opt)",
    });
    const badCreate = async () => ({ ...(await importer()), createDriver: () => ({}) });
    expect((await rejection(loadDriver(d, { socket: "x" }, badCreate))).message).toBe(
      "driver opts (package cnbp-driver-opts): createDriver returned something that is not a cnbp driver: " +
        "apiVersion is missing; name is missing; capabilities is missing; [Symbol.asyncDispose] is not a function; " +
        "images is missing; build is not a function",
    );
    const notZod = async () => ({ ...(await importer()), optionsSchema: { type: "object" } });
    expect((await rejection(importDriver(d, notZod))).message).toBe(
      `driver opts (package cnbp-driver-opts): ${d.module}: optionsSchema is not a zod schema`,
    );
  });

  it("converts text to the numbers and booleans the schema takes, and names an option's source and type", async () => {
    const d = await found("typed", ["build"], minimalDriverSource("typed"));
    const mod = await import(d.module as string);
    const seen: unknown[] = [];
    const importer = async () => ({
      ...mod,
      optionsSchema: z.strictObject({
        port: z.number().int().optional(),
        tls: z.boolean().default(false),
        name: z.string().optional(),
        either: z.union([z.number(), z.boolean()]).optional(),
      }),
      createDriver: (options: unknown) => {
        seen.push(options);
        return mod.default;
      },
    });
    await loadDriver(d, { port: "2376", tls: "true", name: "42", either: "false" }, importer);
    expect(seen).toEqual([{ port: 2376, tls: true, name: "42", either: false }]);
    const sources = { port: "CNBP_DRIVER_OPTS", tls: "config file /x/config.toml", nope: "--driver-opt" };
    expect(await rejection(loadDriver(d, { port: "lots" }, importer, sources))).toEqual({
      code: "CNBP_DRIVER_OPTIONS",
      message: 'driver typed: option port (from CNBP_DRIVER_OPTS) must be a number, found a string "lots"',
    });
    expect(await rejection(loadDriver(d, { tls: "yes" }, importer, sources))).toEqual({
      code: "CNBP_DRIVER_OPTIONS",
      message:
        'driver typed: option tls (from config file /x/config.toml) must be a boolean (true or false), found a string "yes"',
    });
    expect(await rejection(loadDriver(d, { nope: "1", port: 1 }, importer, sources))).toEqual({
      code: "CNBP_DRIVER_OPTIONS",
      message: 'driver typed: unknown option "nope" (from --driver-opt); it takes: port, tls, name, either',
    });
    expect(await rejection(loadDriver(d, { a: "1", b: "2" }, importer))).toEqual({
      code: "CNBP_DRIVER_OPTIONS",
      message: 'driver typed: unknown options "a", "b"; it takes: port, tls, name, either',
    });
  });
});
