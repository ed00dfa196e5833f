/** The phases this lifecycle implements, by the names platforms call them. */
import { analyzer } from "./analyzer.js";
import { exporter } from "./exporter.js";
import { rebaser } from "./rebaser.js";
import { restorer } from "./restorer.js";

export type Phase = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) => Promise<void>;

export const PHASES: Readonly<Record<string, Phase>> = { analyzer, exporter, rebaser, restorer };

const VERBS: Readonly<Record<string, string>> = {
  analyze: "analyzer",
  export: "exporter",
  rebase: "rebaser",
  restore: "restorer",
};

export function phaseFor(name: string): Phase | undefined {
  return PHASES[VERBS[name] ?? name];
}
