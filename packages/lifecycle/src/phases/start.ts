/**
 * What every phase does first, in this order: check CNB_PLATFORM_API, parse the flags that API defines, resolve
 * the inputs (flag, then `CNB_*` variable, then default), and open the log at the asked level.
 */
import { type FlagSpec, flagsForApi, type ParsedFlags, parseFlags } from "../cli/flags.js";
import { createLog, type Log } from "../log.js";
import { requirePlatformApi } from "../platform/api.js";
import { type Env, type Inputs, resolveInputs } from "../platform/inputs.js";

export interface PhaseStart {
  readonly api: string;
  readonly flags: ParsedFlags;
  readonly inputs: Inputs;
  readonly log: Log;
}

export function startPhase(
  phase: string,
  argv: readonly string[],
  env: Env,
  flags: readonly FlagSpec[],
): PhaseStart {
  const api = requirePlatformApi(env);
  const parsed = parseFlags(phase, argv, flagsForApi(flags, api));
  const inputs = resolveInputs(parsed, env);
  return { api, flags: parsed, inputs, log: createLog(inputs.logLevel) };
}
