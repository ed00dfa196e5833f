/** The phases this lifecycle implements, by the names platforms call them. */
import { analyzer } from "./analyzer.js";

export type Phase = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) => Promise<void>;

export const PHASES: Readonly<Record<string, Phase>> = { analyzer };

const VERBS: Readonly<Record<string, string>> = { analyze: "analyzer" };

export function phaseFor(name: string): Phase | undefined {
  return PHASES[VERBS[name] ?? name];
}
