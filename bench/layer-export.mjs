#!/usr/bin/env node
// Exporting a large launch layer: cnbp's layer writer (tar + sha256 diffID + gzip + sha256 digest, one streaming
// pass, the exporter's core) against `tar -c DIR | sha256sum` on the same directory, measured side by side.
// Prints both throughputs, their ratio, and the writer's peak RSS. Targets (issue 3): ratio >= 0.5 for an
// uncompressed OCI-layout layer, peak RSS under 200 MB for a 1 GiB layer.
// Usage: pnpm build && node bench/layer-export.mjs [size-MiB=1024]
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDirLayer } from "../packages/core/dist/index.js";

const sizeMiB = Number(process.argv[2] ?? 1024);
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-"));
const dir = join(work, "layer");
mkdirSync(join(dir, "lib"), { recursive: true });
// 16 files of random data (incompressible: the worst case for gzip) plus many small ones
const chunk = randomBytes(1 << 20);
for (let f = 0; f < 16; f++) {
  const fd = openSync(join(dir, "lib", `blob-${f}.bin`), "w");
  for (let i = 0; i < sizeMiB / 16; i++) writeSync(fd, chunk);
  closeSync(fd);
}
for (let i = 0; i < 2000; i++) {
  const fd = openSync(join(dir, `small-${i}.txt`), "w");
  writeSync(fd, `file ${i}\n`);
  closeSync(fd);
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const mb = sizeMiB * 1.048576;

function peer() {
  const start = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", `tar -C '${dir}' -cf - . | sha256sum`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) throw new Error("tar | sha256sum failed");
  return seconds(start);
}

async function ours(gzip) {
  const out = join(work, gzip ? "layer.tgz" : "layer.tar");
  const start = process.hrtime.bigint();
  await writeDirLayer(dir, "/layers/bench/big", out, { gzip });
  const t = seconds(start);
  rmSync(out);
  return t;
}

execFileSync("sync");
peer(); // warm the page cache for both sides
const peerS = peer();
const plainS = await ours(false);
const gzipS = await ours(true);
const rssMB = process.resourceUsage().maxRSS / 1024;
rmSync(work, { recursive: true, force: true });

const rate = (s) => (mb / s).toFixed(0);
console.log(`layer of ${sizeMiB} MiB (incompressible)`);
console.log(`tar | sha256sum (peer):         ${peerS.toFixed(2)} s  ${rate(peerS)} MB/s`);
console.log(
  `cnbp layer, uncompressed:       ${plainS.toFixed(2)} s  ${rate(plainS)} MB/s  ratio ${(peerS / plainS).toFixed(2)} (target >= 0.5)`,
);
console.log(
  `cnbp layer, gzip (registry):    ${gzipS.toFixed(2)} s  ${rate(gzipS)} MB/s  ratio ${(peerS / gzipS).toFixed(2)}`,
);
console.log(`cnbp peak RSS:                  ${rssMB.toFixed(0)} MB (target < 200 MB)`);
