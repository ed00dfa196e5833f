/** Runs the user's `npm` for the plugin folder and turns its failures into errors that say what to do. */
import { spawn } from "node:child_process";
import { CnbpError } from "../errors.js";

export interface NpmResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `npm args` in `cwd`; resolves whatever its exit code. Throws CNBP_NPM_NOT_FOUND when the command
 * cannot be started.
 */
export function runNpm(npm: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<NpmResult>((resolve, reject) => {
    const child = spawn(npm, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "ENOENT"
          ? new CnbpError("CNBP_NPM_NOT_FOUND", `cannot run ${JSON.stringify(npm)}: it is not on PATH`, {
              hints: ["cnbp installs driver packages with npm: install Node.js with npm, or put npm on PATH"],
            })
          : e,
      ),
    );
    child.on("close", (code, signal) =>
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

/** npm's error code (`npm error code E404`, or `npm ERR! code E404` before npm 10). */
const npmCode = (stderr: string) => /^npm (?:error|ERR!) code (\S+)/m.exec(stderr)?.[1];

const NETWORK_CODES = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH"];

/** The error for a failed `npm install <spec>`: the package is unknown, the registry unreachable, or npm's own words. */
export function installFailure(spec: string, registry: string | undefined, r: NpmResult): CnbpError {
  const code = npmCode(r.stderr);
  const from = registry ? ` at ${registry}` : "";
  if (code === "E404")
    return new CnbpError(
      "CNBP_PLUGIN_NOT_FOUND",
      `no package ${JSON.stringify(spec)} in the npm registry${from}`,
      {
        hints: ["check the name, or pass --registry <url> for a package published elsewhere"],
      },
    );
  if (code === "ETARGET")
    return new CnbpError("CNBP_PLUGIN_NOT_FOUND", `no version of ${JSON.stringify(spec)} matches${from}`, {
      hints: [lastLines(r.stderr)],
    });
  if (code === "ENOENT" || code === "ENOTDIR")
    return new CnbpError("CNBP_PLUGIN_NOT_FOUND", `${spec}: no such file or directory`);
  if (code && NETWORK_CODES.includes(code))
    return new CnbpError("CNBP_NETWORK", `cannot reach the npm registry${from} (${code})`, {
      hints: ["check the network and the registry URL (--registry, or npm's own `registry` setting)"],
    });
  return new CnbpError("CNBP_NPM_FAILED", `npm install ${spec} failed (exit code ${r.exitCode})`, {
    hints: [lastLines(r.stderr || r.stdout)],
  });
}

/** npm's last few lines, without its log-file footer. */
export function lastLines(text: string): string {
  const lines = text
    .split("\n")
    .filter((l) => l.trim() !== "" && !/A complete log of this run|^npm (?:error|ERR!)\s*$/.test(l));
  return lines.slice(-5).join("\n  ");
}
