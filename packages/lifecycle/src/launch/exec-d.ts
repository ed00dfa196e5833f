/**
 * exec.d (buildpack.md 10): each program runs before the app, in the app dir, with the environment built so
 * far; its stdout and stderr are the launcher's, and the TOML it writes to fd 3 (`NAME = "value"`) sets
 * variables for the app and for the programs after it. A program that fails stops the launch.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { parse, TomlError } from "smol-toml";
import type { Environment } from "../env/environment.js";
import { ExitCode, LifecycleError } from "../exit-codes.js";

const fail = (file: string, message: string): never => {
  throw new LifecycleError(ExitCode.launch, `exec.d ${file}: ${message}`);
};

export async function runExecD(file: string, env: Environment, appDir: string): Promise<void> {
  const output = await run(file, env, appDir);
  let vars: Record<string, unknown>;
  try {
    vars = parse(output);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    return fail(file, `wrote invalid TOML to fd 3: ${err.message.split("\n")[0]} (line ${err.line})`);
  }
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value !== "string") fail(file, `${name} must be a string, found ${JSON.stringify(value)}`);
    if (name === "" || name.includes("=")) fail(file, `${JSON.stringify(name)} is not a variable name`);
    env.set(name, value as string);
  }
}

function run(file: string, env: Environment, appDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], {
      cwd: appDir,
      env: env.toRecord(),
      stdio: ["inherit", "inherit", "inherit", "pipe"],
    });
    const chunks: Buffer[] = [];
    (child.stdio[3] as Readable).on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", (err) => reject(new LifecycleError(ExitCode.launch, `exec.d ${file}: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString("utf8"));
      else
        reject(
          new LifecycleError(
            ExitCode.launch,
            `exec.d ${file}: ${signal ? `killed by ${signal}` : `exited with code ${code}`}`,
          ),
        );
    });
  });
}
