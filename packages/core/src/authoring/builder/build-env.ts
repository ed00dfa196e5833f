/**
 * `[[build.env]]`'s `exec-env` (RFC 0134, Platform API 0.15). The operator env a builder holds is the files in
 * `/cnb/build-config/env/`, which the lifecycle applies in every execution environment: Platform API 0.15 gives
 * that directory no per-environment form, and pack writes the same files whatever exec-env says. So an entry for
 * every environment (no exec-env, an empty one, or one with `*`) is written as any other, and one restricted to
 * some environments is refused, since the builder would apply it in the others too.
 */
import type { Problem } from "../../errors.js";
import type { BuilderConfig } from "../../spec/index.js";
import type { ConfigFile } from "../config-file.js";

export function buildEnvProblems(file: ConfigFile<BuilderConfig>): Problem[] {
  return (file.value.build?.env ?? []).flatMap((e, i) => {
    const execEnv = e["exec-env"] ?? [];
    if (execEnv.length === 0 || execEnv.includes("*")) return [];
    return [
      file.problem(
        ["build", "env", i, "exec-env"],
        `${JSON.stringify(execEnv)}: a builder cannot limit ${e.name} to some execution environments: the lifecycle applies every file in /cnb/build-config/env/ whatever CNB_EXEC_ENV is (Platform API 0.15); remove exec-env, or add "*", to set ${e.name} in all of them`,
      ),
    ];
  });
}
