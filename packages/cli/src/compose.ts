/**
 * The composition root: the only place where the DI container is filled. One child container per command
 * run, so values that belong to that run (its logger, later its build) never leak into another.
 */
import { createLogger, type DependencyContainer, LOGGER, type LogLevel, rootContainer } from "@cnbp/core";

export interface RunSettings {
  readonly logLevel: LogLevel;
}

export function compose(
  settings: RunSettings,
  parent: DependencyContainer = rootContainer,
): DependencyContainer {
  const c = parent.createChildContainer();
  c.register(LOGGER, { useValue: createLogger({ level: settings.logLevel }) });
  return c;
}

/** Every token the CLI registers; a test resolves each from a real composition. */
export const REGISTERED_TOKENS = [LOGGER] as const;
