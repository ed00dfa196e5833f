#!/usr/bin/env node
// Detection overhead: the detector over an order of 100 trivial buildpacks (one group, all optional; each
// `bin/detect` a tiny `#!/bin/sh` that exits 0 or 100), against the same 100 scripts spawned directly with the
// same parallelism (all at once, as the detector runs one group's detects), as the same user. Prints both
// times (median of 5 runs after a warm-up) and the lifecycle's overhead = detector - scripts.
// Target (issue 5): overhead < 0.5 s.
// Usage: pnpm build && node bench/detect-overhead.mjs [buildpacks=100]
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detect } from "../packages/lifecycle/dist/phases/detector.js";

const count = Number(process.argv[2] ?? 100);
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-detect-"));
chmodSync(work, 0o755);
const dirs = Object.fromEntries(
  ["buildpacks", "extensions", "app", "platform", "build-config"].map((d) => [d, join(work, d)]),
);
for (const d of Object.values(dirs)) mkdirSync(d);
const root = process.getuid?.() === 0;
const user = root ? { uid: 1000, gid: 1000 } : { uid: process.getuid(), gid: process.getgid() };

const scripts = [];
let order = "[[order]]\n";
for (let i = 0; i < count; i++) {
  const id = `bench/bp-${String(i).padStart(3, "0")}`;
  const dir = join(dirs.buildpacks, id.replace("/", "_"), "1.0.0");
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(
    join(dir, "buildpack.toml"),
    `api = "0.12"\n[buildpack]\nid = "${id}"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n`,
  );
  const detectPath = join(dir, "bin", "detect");
  writeFileSync(detectPath, `#!/bin/sh\nexit ${i % 2 === 0 ? 0 : 100}\n`, { mode: 0o755 });
  writeFileSync(join(dir, "bin", "build"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  scripts.push(detectPath);
  order += `[[order.group]]\nid = "${id}"\nversion = "1.0.0"\noptional = true\n`;
}
writeFileSync(join(work, "order.toml"), order);
writeFileSync(
  join(work, "analyzed.toml"),
  `[run-image]\nreference = "run"\n[run-image.target]\nos = "linux"\narch = "amd64"\n[run-image.target.distro]\nname = "ubuntu"\nversion = "22.04"\n`,
);

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function detector() {
  const start = process.hrtime.bigint();
  const result = await detect({
    platformApi: "0.15",
    appDir: dirs.app,
    buildpacksDir: dirs.buildpacks,
    extensionsDir: dirs.extensions,
    platformDir: dirs.platform,
    buildConfigDir: dirs["build-config"],
    orderPath: join(work, "order.toml"),
    systemPath: join(work, "system.toml"),
    analyzedPath: join(work, "analyzed.toml"),
    execEnv: "production",
    lifecycleEnv: { PATH: process.env.PATH },
    user,
    log: quiet,
  });
  const t = seconds(start);
  if (result.buildpacks.length !== Math.ceil(count / 2)) throw new Error("unexpected group");
  return t;
}

/** The scripts alone: each spawned with its two arguments, in the app dir, as the user, all at once. */
async function scriptsAlone() {
  const start = process.hrtime.bigint();
  await Promise.all(
    scripts.map(
      (path) =>
        new Promise((resolve, reject) => {
          const child = spawn(path, [dirs.platform, join(work, "plan.toml")], {
            cwd: dirs.app,
            env: { PATH: process.env.PATH },
            stdio: ["ignore", "pipe", "pipe"],
            ...(root ? user : {}),
          });
          child.on("error", reject);
          child.on("close", resolve);
        }),
    ),
  );
  return seconds(start);
}

await detector(); // warm-up: module cache, page cache
await scriptsAlone();
const detectorTimes = [];
const scriptTimes = [];
for (let i = 0; i < 5; i++) {
  detectorTimes.push(await detector());
  scriptTimes.push(await scriptsAlone());
}
rmSync(work, { recursive: true, force: true });

const total = median(detectorTimes);
const own = median(scriptTimes);
const overhead = total - own;
console.log(`buildpacks:          ${count} (one group, all optional, half pass)`);
console.log(`detector total:      ${total.toFixed(3)} s (median of 5)`);
console.log(`scripts alone:       ${own.toFixed(3)} s (same parallelism, median of 5)`);
console.log(`lifecycle overhead:  ${overhead.toFixed(3)} s (target < 0.5 s)`);
console.log(overhead < 0.5 ? "PASS" : "FAIL");
process.exitCode = overhead < 0.5 ? 0 : 1;
