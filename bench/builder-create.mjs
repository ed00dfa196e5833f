#!/usr/bin/env node
// Creating a builder: 20 local buildpacks onto the busybox build image of the local registry (127.0.0.1:5000,
// scripts/stacks/build.sh), published, with cnbp's own lifecycle. A warm-up run into another repository fills
// the layer cache with the lifecycle layer (the cached state of a developer machine); then the measured run
// creates the builder with 20 buildpacks never seen before, timed inside the process (cnbp's own time, no Node
// start-up). Then one buildpack changes and the builder is created again: the registry client's own counts say
// which blobs were sent. Targets (issue 5): under 3 s; only the changed buildpack's layer (plus config and
// manifest) is uploaded.
// Usage: pnpm build && node bench/builder-create.mjs [buildpacks=20]
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBuilder, RegistryClient } from "../packages/core/dist/index.js";

const count = Number(process.argv[2] ?? 20);
const registry = process.env.CNBP_REGISTRY_ADDR ?? "127.0.0.1:5000";
const run = `b${Date.now().toString(36)}`;
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-"));
const tree = new URL("../packages/lifecycle/dist/cnb-lifecycle", import.meta.url).pathname;

function buildpack(dir, id) {
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "buildpack.toml"), `api = "0.10"\n[buildpack]\nid = "${id}"\nversion = "1.0.0"\n`);
  for (const f of ["detect", "build"]) {
    writeFileSync(join(dir, "bin", f), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, "bin", f), 0o755);
  }
  // some payload, as real buildpacks carry scripts and tables
  writeFileSync(join(dir, "data.bin"), randomBytes(64 * 1024));
}

function builderToml(name, ids) {
  const file = join(work, `${name}.toml`);
  writeFileSync(
    file,
    [
      ...ids.map((id) => `[[buildpacks]]\nuri = "bp/${id.replace("/", "_")}"`),
      "[[order]]",
      ...ids.map((id) => `[[order.group]]\nid = "${id}"\noptional = true`),
      `[build]\nimage = "${registry}/cnbp-stacks/busybox-build:latest"`,
      `[run]\n[[run.images]]\nimage = "${registry}/cnbp-stacks/busybox-run:latest"`,
      "",
    ].join("\n"),
  );
  return file;
}

const options = { registry: new RegistryClient(), cacheDir: join(work, "cache") };
const create = async (config, name) => {
  const start = process.hrtime.bigint();
  const result = await createBuilder(
    {
      config,
      output: { kind: "registry", name },
      defaultLifecycle: tree,
      createdBy: { name: "cnbp", version: "bench" },
    },
    options,
  );
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
};

try {
  buildpack(join(work, "bp", "warm_up"), "warm/up");
  await create(builderToml("warm", ["warm/up"]), `${registry}/cnbp-bench/${run}/warm:1`);

  const ids = Array.from({ length: count }, (_, i) => `bench/bp-${i}`);
  for (const id of ids) buildpack(join(work, "bp", id.replace("/", "_")), id);
  const config = builderToml("builder", ids);
  const name = `${registry}/cnbp-bench/${run}/builder:1`;
  const first = await create(config, name);
  console.log(
    `create: ${count} new buildpacks, ${first.result.layers.length} layers added, ${first.seconds.toFixed(2)} s`,
  );
  console.log(`  ${first.seconds < 3 ? "PASS" : "FAIL"} cnbp's own time < 3 s`);
  if (first.seconds >= 3) process.exitCode = 1;

  writeFileSync(join(work, "bp", "bench_bp-7", "data.bin"), randomBytes(64 * 1024));
  const again = await create(config, name);
  const sent = again.result.layers.filter((l) => l.how !== "exists");
  const layerBytes = sent.reduce((n, l) => n + l.bytes, 0);
  console.log(
    `re-create with bench/bp-7 changed: ${again.seconds.toFixed(2)} s, ${again.result.bytesWritten} bytes sent`,
  );
  for (const l of sent) console.log(`  sent ${l.what}: ${l.bytes} bytes (layer size ${l.size})`);
  const onlyThat = sent.length === 1 && sent[0].what === "buildpack bench/bp-7@1.0.0";
  // the rest of bytesWritten is the config blob (the manifest is put separately)
  const config_ = again.result.bytesWritten - layerBytes;
  console.log(`  config blob: ${config_} bytes`);
  console.log(
    `  ${onlyThat && config_ < 64 * 1024 ? "PASS" : "FAIL"} only the changed buildpack's layer (and the config) uploaded`,
  );
  if (!onlyThat || config_ >= 64 * 1024) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
