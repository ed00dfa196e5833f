#!/usr/bin/env node
// The real exporter on a large launch layer, run as the lifecycle binary in a child process so that its peak
// RSS is its own: to an OCI layout (timed against `tar -C DIR -cf - . | sha256sum` on the same layer dir, page
// cache warm, in the same run) and to the local registry. The exporter tars, hashes, gzips and hashes the
// layer, then copies or uploads the blob; the peer only tars and hashes, so `tar | gzip -6 | sha256sum` is
// timed too (for information, not a target) to show how much of the gap is gzip.
// Targets (issue 3): a 1 GiB launch layer is exported with peak RSS under 200 MB; export of a large layer to
// an OCI layout runs at least at half the peer's throughput (ratio >= 0.5).
// Needs the local registry with the test stacks (scripts/engines/start.sh, scripts/stacks/build.sh).
// Usage: pnpm build && node bench/export-memory.mjs [size-MiB=1024]
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  analyzer,
  checkRegistry,
  LIFECYCLE,
  layoutPath,
  MiB,
  makeBuild,
  REGISTRY,
  RUN_IMAGE,
  seconds,
  verdict,
} from "./lib/build.mjs";

const sizeMiB = Number(process.argv[2] ?? 1024);
const LAYOUT_RUN = "reg.example/cnbp/run:1";
const LAYOUT_APP = "reg.example/cnbp/app:1";
const REGISTRY_APP = `${REGISTRY}/cnbp-bench/${randomBytes(4).toString("hex")}/export-memory:1`;
// the lifecycle binary as is, printing its own peak RSS (KiB) when it exits
const WITH_RSS =
  'process.on("exit", () => process.stderr.write("maxrss-kib " + process.resourceUsage().maxRSS + "\\n"));' +
  "await import(process.argv[1]);";

await checkRegistry();
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-"));
const build = makeBuild(work, [sizeMiB], LAYOUT_RUN);
const layerDir = build.layerDir(0);
const layoutRoot = join(work, "layout");
mkdirSync(layoutPath(layoutRoot, LAYOUT_RUN), { recursive: true });
execFileSync("skopeo", [
  "copy",
  "-q",
  "--src-tls-verify=false",
  `docker://${RUN_IMAGE}`,
  `oci:${layoutPath(layoutRoot, LAYOUT_RUN)}`,
]);
const registryRunToml = join(work, "run-registry.toml");
writeFileSync(registryRunToml, `[[images]]\nimage = "${RUN_IMAGE}"\n`);

function peer(gzip = "") {
  const start = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", `tar -C '${layerDir}' -cf - . ${gzip} | sha256sum`], { stdio: "ignore" });
  if (r.status !== 0) throw new Error("the peer pipeline failed");
  return seconds(start);
}

/** Runs the analyzer in process, then times the exporter binary; its peak RSS in MB. */
async function exporter(name, flags) {
  const analyzed = join(work, `analyzed-${flags.includes("-layout") ? "layout" : "registry"}.toml`);
  await analyzer([...flags, "-analyzed", analyzed, name], build.env);
  const args = [...flags, "-analyzed", analyzed, "-launcher", build.launcher, name];
  const argv = ["--input-type=module", "-e", WITH_RSS, LIFECYCLE, "exporter", ...args];
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { env: build.env, encoding: "utf8" });
  const s = seconds(start);
  if (r.status !== 0) throw new Error(`exporter exited ${r.status}: ${r.stderr}`);
  const kib = Number(/maxrss-kib (\d+)/.exec(r.stderr)?.[1]);
  return { s, rssMB: (kib * 1024) / 1e6 };
}

let peerS;
let gzipPeerS;
let layout;
let registry;
try {
  execFileSync("sync");
  peer(); // warm the page cache for both sides
  peerS = peer();
  gzipPeerS = peer("| gzip -6");
  layout = await exporter(LAYOUT_APP, ["-layout", "-layout-dir", layoutRoot, "-run", build.runToml]);
  registry = await exporter(REGISTRY_APP, ["-run", registryRunToml]);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const mbps = (s) => (sizeMiB * MiB) / 1e6 / s;
const ratio = mbps(layout.s) / mbps(peerS);
console.log(`launch layer of ${sizeMiB} MiB (incompressible, 16 files + 500 small ones)`);
console.log(`tar | sha256sum (peer):     ${peerS.toFixed(2)} s  ${mbps(peerS).toFixed(0)} MB/s`);
console.log(
  `tar | gzip -6 | sha256sum:  ${gzipPeerS.toFixed(2)} s  ${mbps(gzipPeerS).toFixed(0)} MB/s  (information: the gzip the exporter also does)`,
);
console.log(
  `exporter to an OCI layout:  ${layout.s.toFixed(2)} s  ${mbps(layout.s).toFixed(0)} MB/s  ratio ${ratio.toFixed(2)}  peak RSS ${layout.rssMB.toFixed(0)} MB`,
);
console.log(
  `exporter to the registry:   ${registry.s.toFixed(2)} s  ${mbps(registry.s).toFixed(0)} MB/s  peak RSS ${registry.rssMB.toFixed(0)} MB`,
);
console.log(
  `layout export against tar | gzip -6 | sha256sum (information): ratio ${(gzipPeerS / layout.s).toFixed(2)}`,
);
verdict(ratio >= 0.5, `layout export at ${ratio.toFixed(2)} of the peer's throughput (target >= 0.5)`);
const worst = Math.max(layout.rssMB, registry.rssMB);
verdict(worst < 200, `exporter peak RSS ${worst.toFixed(0)} MB for a ${sizeMiB} MiB layer (target < 200 MB)`);
