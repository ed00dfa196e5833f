/** The phases this lifecycle implements, by the names platforms call them. */
import type { Env } from "../platform/inputs.js";
import { analyzer } from "./analyzer.js";
import { builder } from "./builder.js";
import { creator } from "./creator.js";
import { detector } from "./detector.js";
import { exporter } from "./exporter.js";
import { rebaser } from "./rebaser.js";
import { restorer } from "./restorer.js";

export type Phase = (argv: readonly string[], env: Env) => Promise<void>;

export const PHASES: Readonly<Record<string, Phase>> = {
  analyzer,
  builder,
  creator,
  detector,
  exporter,
  rebaser,
  restorer,
};

const VERBS: Readonly<Record<string, string>> = {
  analyze: "analyzer",
  build: "builder",
  create: "creator",
  detect: "detector",
  export: "exporter",
  rebase: "rebaser",
  restore: "restorer",
};

export function phaseFor(name: string): Phase | undefined {
  return PHASES[VERBS[name] ?? name];
}
