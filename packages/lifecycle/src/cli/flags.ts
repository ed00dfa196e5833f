/**
 * Flags parsed the way Go's `flag` package does, since platforms call every phase with Go-style arguments:
 * `-name value`, `-name=value`, `--name` alike; booleans as `-name` or `-name=false` (never a separate word);
 * parsing stops at the first positional or at `--`. Each phase defines only the flags of the Platform API it
 * runs under, so a flag from a newer API is refused as unknown, as the Go lifecycle does.
 */
import { apiAtLeast } from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";

export type FlagKind = "string" | "bool" | "list";

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** First Platform API that has the flag. */
  readonly since?: string;
  /** First Platform API that no longer has it (e.g. -stack from 0.12). */
  readonly until?: string;
}

export interface ParsedFlags {
  /** Flags given on the command line; list flags collect every occurrence. */
  readonly values: ReadonlyMap<string, string | boolean | string[]>;
  readonly positionals: readonly string[];
}

export function flagsForApi(specs: readonly FlagSpec[], platformApi: string): FlagSpec[] {
  return specs.filter(
    (s) => (!s.since || apiAtLeast(platformApi, s.since)) && (!s.until || !apiAtLeast(platformApi, s.until)),
  );
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

export function parseFlags(phase: string, argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string | boolean | string[]>();
  const fail = (why: string): never => {
    throw new LifecycleError(ExitCode.invalidArgs, `${phase}: ${why}`);
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) {
      if (name === "h" || name === "help")
        fail(`usage: ${phase} [flags]: flags are ${specs.map((s) => `-${s.name}`).join(" ")}`);
      fail(`flag provided but not defined: -${name}`);
    }
    const s = spec as FlagSpec;
    if (s.kind === "bool") {
      const value = eq >= 0 ? parseGoBool(body.slice(eq + 1)) : true;
      if (value === undefined) fail(`invalid boolean value "${body.slice(eq + 1)}" for flag -${name}`);
      values.set(name, value as boolean);
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) fail(`flag needs an argument: -${name}`);
      value = argv[++i] as string;
    }
    if (s.kind === "list") values.set(name, [...((values.get(name) as string[] | undefined) ?? []), value]);
    else values.set(name, value);
  }
  return { values, positionals: argv.slice(i) };
}
