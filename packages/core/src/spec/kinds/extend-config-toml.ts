/**
 * extend-config.toml: build args an image extension adds to its Dockerfiles (shared/spec/extensions.md
 * 3, 9): `[[build.args]]` for build.Dockerfile, `[[run.args]]` for run.Dockerfile.
 */
import { z } from "zod";
import type { FileKind, Finding } from "../file-kind.js";
import { show } from "../schema.js";

const args = z.looseObject({
  args: z.array(z.looseObject({ name: z.string().min(1), value: z.string() })).optional(),
});

const schema = z.looseObject({ build: args.optional(), run: args.optional() });

export type ExtendConfig = z.infer<typeof schema>;

/** Args the lifecycle itself passes to every Dockerfile. */
const RESERVED_ARGS = ["build_id", "user_id", "group_id"];

export const extendConfigToml: FileKind<ExtendConfig> = {
  name: "extend-config.toml",
  fileNames: ["extend-config.toml"],
  format: "toml",
  summary: "build args an image extension passes to its Dockerfiles ([[build.args]], [[run.args]])",
  schema,
  check: (config) =>
    (["build", "run"] as const).flatMap((kind) =>
      (config[kind]?.args ?? []).flatMap((arg, i): Finding[] =>
        RESERVED_ARGS.includes(arg.name)
          ? [
              {
                path: [kind, "args", i, "name"],
                message: `${show(arg.name)} is reserved (the lifecycle sets build_id, user_id and group_id)`,
              },
            ]
          : [],
      ),
    ),
};
