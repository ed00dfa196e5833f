/** Where the user's config file lives. */
import { isAbsolute, join } from "node:path";

/**
 * `$CNBP_CONFIG` when set, else `$XDG_CONFIG_HOME/cnbp/config.toml`, else `~/.config/cnbp/config.toml`.
 * A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
 */
export function configFilePath(env: NodeJS.ProcessEnv, home: string): string {
  if (env.CNBP_CONFIG) return env.CNBP_CONFIG;
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, ".config"), "cnbp", "config.toml");
}
