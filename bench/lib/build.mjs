// What the benchmarks share: a build as the builder leaves it for the exporter (a layers dir with launch
// layers of given sizes, group.toml, config/metadata.toml, an app dir, a launcher, run.toml), the CNB_
// environment, and the lifecycle's phases from packages/lifecycle/dist. Shaped like the lifecycle's own
// exporter and rebaser tests.
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { RegistryClient } from "../../packages/core/dist/index.js";

export { layoutPath } from "../../packages/core/dist/index.js";
export { analyzer } from "../../packages/lifecycle/dist/phases/analyzer.js";
export { exportImage } from "../../packages/lifecycle/dist/phases/exporter.js";
export { rebaser } from "../../packages/lifecycle/dist/phases/rebaser.js";

export const REGISTRY = "127.0.0.1:5000";
/** The test stack's run image (scripts/stacks/build.sh puts it in the local registry). */
export const RUN_IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
/** The lifecycle binary: `node LIFECYCLE <phase> [flags]`. */
export const LIFECYCLE = new URL("../../packages/lifecycle/dist/main.js", import.meta.url).pathname;

export const MiB = 1 << 20;
export const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `mib` MiB of random data in 16 files (a 1 MiB random chunk repeated: far beyond gzip's 32 KiB window, so
 * incompressible) plus 500 small files, in `dir`.
 */
export function fillLayer(dir, mib) {
  mkdirSync(join(dir, "lib"), { recursive: true });
  const chunk = randomBytes(MiB);
  const files = Math.min(16, Math.max(1, mib));
  for (let f = 0; f < files; f++) {
    const fd = openSync(join(dir, "lib", `blob-${f}.bin`), "w");
    for (let i = f; i < mib; i += files) writeSync(fd, chunk);
    closeSync(fd);
  }
  for (let i = 0; i < 500; i++) writeFileSync(join(dir, `small-${i}.txt`), `file ${i}\n`);
}

/**
 * A build in `work`: buildpack bench/app with one launch layer per entry of `layerMiB` (layer-0, layer-1,
 * ...), an app dir with one file, busybox as the launcher and run.toml naming `runImage`.
 */
export function makeBuild(work, layerMiB, runImage = RUN_IMAGE) {
  const layers = join(work, "layers");
  const app = join(work, "workspace");
  const launcher = join(work, "launcher");
  const runToml = join(work, "run.toml");
  mkdirSync(join(layers, "config"), { recursive: true });
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, "app.txt"), "hello from the app\n");
  writeFileSync(join(layers, "group.toml"), '[[group]]\nid = "bench/app"\nversion = "1.0.0"\napi = "0.10"\n');
  writeFileSync(
    join(layers, "config", "metadata.toml"),
    '[[buildpacks]]\nid = "bench/app"\nversion = "1.0.0"\napi = "0.10"\n\n' +
      '[[processes]]\ntype = "web"\ncommand = ["/bin/true"]\ndirect = true\nbuildpack-id = "bench/app"\n',
  );
  layerMiB.forEach((size, i) => {
    fillLayer(join(layers, "bench_app", `layer-${i}`), size);
    writeFileSync(join(layers, "bench_app", `layer-${i}.toml`), "[types]\nlaunch = true\n");
  });
  copyFileSync("/bin/busybox", launcher);
  chmodSync(launcher, 0o755);
  writeFileSync(runToml, `[[images]]\nimage = "${runImage}"\n`);
  const env = {
    ...process.env,
    CNB_PLATFORM_API: "0.15",
    CNB_LAYERS_DIR: layers,
    CNB_APP_DIR: app,
    CNB_USER_ID: "0",
    CNB_GROUP_ID: "0",
    CNB_LOG_LEVEL: "warn",
  };
  return {
    work,
    layers,
    app,
    launcher,
    runToml,
    env,
    layerDir: (i) => join(layers, "bench_app", `layer-${i}`),
  };
}

/** The registry answers, and has the run image. */
export async function checkRegistry() {
  const found = await new RegistryClient().headManifest(RUN_IMAGE).catch(() => undefined);
  if (!found) {
    throw new Error(
      `${RUN_IMAGE} cannot be read: run bash scripts/engines/start.sh && bash scripts/stacks/build.sh`,
    );
  }
}

/** PASS or FAIL, with what was measured against what was wanted; a FAIL makes the script exit 1. */
export function verdict(ok, what) {
  if (!ok) process.exitCode = 1;
  console.log(`${ok ? "PASS" : "FAIL"}  ${what}`);
}
