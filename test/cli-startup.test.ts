/**
 * What the CLI loads before it does anything: a command's modules and core's parts load when that command
 * runs, so `cnbp --version` and `--help` pay for commander alone, and a build never for the DI container,
 * the logger or another command's code (issue 6: cnbp's own time in a build).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, REPO_ROOT } from "#test-utils";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-startup-"));
  // module hooks run on a thread of their own: each loaded file is appended to the file the process names
  await writeFile(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (url.startsWith("file:")) appendFileSync(process.env.LOADED_LOG, url + "\\n");
  return next(url, context);
}
`,
  );
  await writeFile(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the built CLI and returns its result and the files it loaded: workspace paths, else the npm package. */
async function loaded(args: readonly string[], name: string) {
  const log = join(dir, `${name}.log`);
  const r = await execa(process.execPath, ["--import", join(dir, "register.mjs"), CLI, ...args], {
    env: { LOADED_LOG: log },
    reject: false,
    stdin: "ignore",
  });
  const files = (await readFile(log, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((url) => relative(REPO_ROOT, fileURLToPath(url)));
  const packages = new Set(
    files.flatMap((f) => {
      const m = /node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@/.exec(f);
      return m?.[1] ? [m[1].replace("+", "/")] : [];
    }),
  );
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, files, packages };
}

describe("cnbp start-up", () => {
  it("--version loads commander, the CLI's own modules and core's errors, nothing else", async () => {
    const r = await loaded(["--version"], "version");
    expect({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({
      exitCode: 0,
      stdout: "0.1.0",
      stderr: "",
    });
    expect([...r.packages]).toEqual(["commander"]);
    expect(r.files.filter((f) => f.startsWith("packages/") && !f.startsWith("packages/cli/dist/"))).toEqual([
      "packages/core/dist/errors.js",
    ]);
  });

  it("a build loads core's build parts, not the DI container, the logger, the rebase or a driver before it opens one", async () => {
    // --cache-image without --publish: refused after the build's modules load and before any driver opens
    const r = await loaded(["build", "startup-app", "--cache-image", "127.0.0.1:5000/c:1"], "build");
    expect({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "error: build: --cache-image needs --publish (the cache image goes to a registry)",
    });
    expect(r.files).toContain("packages/core/dist/build/build.js");
    expect(r.files).toContain("packages/core/dist/config/open-driver.js");
    const unwanted = r.files.filter((f) =>
      /^packages\/(core\/dist\/(di|logging|rebase)\b|cli\/dist\/compose\.js|driver-)/.test(f),
    );
    expect(unwanted).toEqual([]);
    expect([...r.packages].filter((p) => ["tsyringe", "reflect-metadata", "pino"].includes(p))).toEqual([]);
  });
});
