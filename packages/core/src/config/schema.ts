/**
 * The user's config file (config.toml), what `cnbp config` reads and writes:
 *
 * ```toml
 * driver = "podman"                              # the driver to use when --driver and CNBP_DRIVER are not given
 * default-builder = "127.0.0.1:5000/me/builder"  # the builder when --builder is not given
 * pull-policy = "if-not-present"                 # always | if-not-present | never
 * trusted-builders = ["127.0.0.1:5000/me/builder"]
 *
 * [drivers.podman]                               # a driver's options, as its optionsSchema takes them
 * bin = "/usr/bin/podman"
 * ```
 */
import { z } from "zod";
import type { PullPolicy } from "../drivers/contract.js";
import { InvalidReferenceError, parseReference } from "../image/reference.js";
import { driverName } from "../plugins/manifest.js";
import type { FileKind } from "../spec/file-kind.js";
import { foundValue } from "../spec/schema.js";

export const PULL_POLICIES = ["always", "if-not-present", "never"] as const satisfies readonly PullPolicy[];

/** An option's name inside `[drivers.<name>]`: what `drivers.<name>.<option>` can address. */
export const OPTION_KEY = /^[A-Za-z0-9_-]+$/;

/** An image reference; the problem says why it is not one (`"Me/B" is not a valid image reference: ...`). */
export const imageRef = z.string().superRefine((text, ctx) => {
  try {
    parseReference(text);
  } catch (err) {
    if (!(err instanceof InvalidReferenceError)) throw err;
    ctx.addIssue({ code: "custom", message: err.message, input: text });
  }
});

export const driverOptionValue = z.union([z.string(), z.number(), z.boolean()], {
  error: (iss) => `must be a string, a number or a boolean, found ${foundValue(iss.input)}`,
});

export const CnbpConfigSchema = z.strictObject({
  driver: driverName.optional(),
  "default-builder": imageRef.optional(),
  "pull-policy": z.enum(PULL_POLICIES).optional(),
  "trusted-builders": z.array(imageRef).optional(),
  drivers: z.record(z.string(), z.record(z.string(), driverOptionValue)).optional(),
});
export type CnbpConfig = z.infer<typeof CnbpConfigSchema>;

export const configFileKind: FileKind<CnbpConfig> = {
  name: "config.toml",
  fileNames: ["config.toml"],
  format: "toml",
  summary: "cnbp's user config file",
  schema: CnbpConfigSchema,
  check(config) {
    // record keys are checked here so the message names the key the way the other fields are named
    return Object.entries(config.drivers ?? {}).flatMap(([name, options]) => [
      ...(driverName.safeParse(name).success
        ? []
        : [
            {
              path: ["drivers", name],
              message: "is not a valid driver name (lowercase letters, digits and '-')",
            },
          ]),
      ...Object.keys(options)
        .filter((key) => !OPTION_KEY.test(key))
        .map((key) => ({
          path: ["drivers", name, key],
          message: "is not a valid option name (letters, digits, '_' and '-')",
        })),
    ]);
  },
};
