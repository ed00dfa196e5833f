/**
 * What an exec.d executable writes to file descriptor 3 (shared/spec/files.md 2.8): a flat table of
 * environment variables, each value a string.
 */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";

const schema = z.record(z.string(), z.string());

export type ExecDOutput = z.infer<typeof schema>;

export const execDOutput: FileKind<ExecDOutput> = {
  name: "exec.d output",
  fileNames: [],
  format: "toml",
  summary: 'environment variables an exec.d executable writes to fd 3 (NAME = "value")',
  schema,
  check: (env) =>
    Object.keys(env)
      .filter((name) => name === "" || name.includes("="))
      .map((name) => ({ path: [name], message: "is not a valid environment variable name" })),
};
