/** Where driver packages are looked for, in order: built-in packages, the user's plugin folder, CNBP_PLUGIN_PATH. */
import { delimiter, isAbsolute, join } from "node:path";

export type PluginSourceKind = "builtin" | "user" | "CNBP_PLUGIN_PATH";

/** One place to look: each path is a package directory (it has a package.json) or a node_modules directory. */
export interface PluginSource {
  readonly kind: PluginSourceKind;
  readonly paths: readonly string[];
}

/**
 * The user's plugin folder, where `cnbp driver install` puts npm packages (its own package.json and
 * node_modules): `$CNBP_DATA_DIR/plugins`, else `$XDG_DATA_HOME/cnbp/plugins`, else
 * `~/.local/share/cnbp/plugins`. Relative XDG_DATA_HOME values are ignored, as the XDG spec says.
 */
export function userPluginDir(env: NodeJS.ProcessEnv, home: string): string {
  if (env.CNBP_DATA_DIR) return join(env.CNBP_DATA_DIR, "plugins");
  const xdg = env.XDG_DATA_HOME;
  const data = xdg && isAbsolute(xdg) ? xdg : join(home, ".local", "share");
  return join(data, "cnbp", "plugins");
}

/** The sources in precedence order: for a name found twice, the first working driver wins. */
export function pluginSources(
  builtinPackageDirs: readonly string[],
  env: NodeJS.ProcessEnv,
  home: string,
): PluginSource[] {
  const fromEnv = (env.CNBP_PLUGIN_PATH ?? "").split(delimiter).filter((p) => p !== "");
  return [
    { kind: "builtin", paths: builtinPackageDirs },
    { kind: "user", paths: [join(userPluginDir(env, home), "node_modules")] },
    { kind: "CNBP_PLUGIN_PATH", paths: fromEnv },
  ];
}
