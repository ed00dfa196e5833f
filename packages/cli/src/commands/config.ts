/**
 * `cnbp config`: the user's config file (`$CNBP_CONFIG`, else `$XDG_CONFIG_HOME/cnbp/config.toml`, else
 * `~/.config/cnbp/config.toml`): path, list, get, set, unset, and `trusted-builders add|remove|list` as pack has.
 */
import { homedir } from "node:os";
import type { CnbpConfig, ConfigValue } from "@cnbp/core";
import { CnbpError } from "@cnbp/core/errors";
import { Command } from "commander";
import type { Io } from "../io.js";

const KEYS_HELP = `
Keys:
  driver                     the driver to use when --driver and CNBP_DRIVER are not given
  default-builder            the builder to use when --builder is not given
  pull-policy                always | if-not-present | never
  trusted-builders           builders whose creator may run with registry credentials (a comma list on set)
  drivers.<driver>.<option>  an option of a driver (\`cnbp driver info <driver>\` lists them)`;

/** Core's config module, loaded when a config command runs. */
const settings = () => import("@cnbp/core/config");
type Settings = Awaited<ReturnType<typeof settings>>;

export function configCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const path = async () => (await settings()).configFilePath(env, homedir());
  const load = async () => (await settings()).loadConfig(await path());
  /** Loads the file, applies `change` and writes the result back (only when something changed). */
  const update = async (change: (values: CnbpConfig, s: Settings) => CnbpConfig) => {
    const s = await settings();
    const config = await s.loadConfig(await path());
    const next = change(config.values, s);
    if (next !== config.values) await s.saveConfig(config.path, next);
  };
  const ours = (command: Command) =>
    command
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const trusted = ours(
    new Command("trusted-builders").description("Builders trusted with registry credentials"),
  );
  trusted.addCommand(
    ours(
      new Command("add")
        .description("Trust a builder: cnbp build runs its creator in one container")
        .argument("<image>", "the builder image")
        .action((image: string) => update((values, s) => s.addTrustedBuilder(values, image))),
    ),
  );
  trusted.addCommand(
    ours(
      new Command("remove")
        .description("Stop trusting a builder")
        .argument("<image>", "the builder image")
        .action((image: string) => update((values, s) => s.removeTrustedBuilder(values, image))),
    ),
  );
  trusted.addCommand(
    ours(
      new Command("list").description("List the trusted builders, one a line").action(async () => {
        for (const image of (await load()).values["trusted-builders"] ?? []) io.stdout.write(`${image}\n`);
      }),
    ),
  );

  const config = ours(
    new Command("config").description("Show and change cnbp's settings in its config file"),
  );
  config.addHelpText("after", KEYS_HELP);
  for (const c of [
    new Command("path").description("Print where the config file is").action(async () => {
      io.stdout.write(`${await path()}\n`);
    }),
    new Command("list").description("Print every setting as key = value").action(async () => {
      printSettings(io, await settings(), (await load()).values, "");
    }),
    new Command("get")
      .description("Print one setting (a list one item a line)")
      .argument("<key>", "a config key, e.g. driver or drivers.podman.bin")
      .action(async (key: string) => {
        const s = await settings();
        const config = await s.loadConfig(await path());
        const value = s.getConfigValue(config.values, key);
        if (value === undefined)
          throw new CnbpError("CNBP_CONFIG_UNSET", `${key} is not set in ${config.path}`, {
            hints: [`set it with \`cnbp config set ${key} <value>\``],
          });
        if (Array.isArray(value)) for (const item of value) io.stdout.write(`${item}\n`);
        else if (typeof value === "object") printSettings(io, s, config.values, `${key}.`);
        else io.stdout.write(`${value}\n`);
      }),
    new Command("set")
      .description("Set one setting")
      .argument("<key>", "a config key, e.g. driver or drivers.podman.bin")
      .argument("<value>", "its value (trusted-builders: a comma list)")
      .action((key: string, value: string) => update((values, s) => s.setConfigValue(values, key, value))),
    new Command("unset")
      .description("Remove one setting")
      .argument("<key>", "a config key, e.g. driver or drivers.podman")
      .action((key: string) => update((values, s) => s.unsetConfigValue(values, key))),
    trusted,
  ])
    config.addCommand(ours(c));
  return config;
}

/** A value as TOML writes it: strings quoted, lists in brackets. */
function literal(value: ConfigValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
  return String(value);
}

/** The settings whose key starts with `prefix`, as `key = value` lines. */
function printSettings(io: Io, s: Settings, values: CnbpConfig, prefix: string): void {
  for (const [key, value] of s.listConfig(values))
    if (key.startsWith(prefix)) io.stdout.write(`${key} = ${literal(value)}\n`);
}
