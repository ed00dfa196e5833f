#!/usr/bin/env node
// `cnbp build` on Podman against `podman build` of an equivalent Dockerfile, side by side in one run.
// The app: examples/hello (its buildpack writes one launch layer), built with a builder `cnbp builder create`
// makes from examples/hello/builder.toml. The peer: FROM the busybox run image, COPY the app, RUN one command
// writing a file (one layer for the app, one for the buildpack's work), rebuilt with its cache.
// Figures (median of N runs after a warm-up): a rebuild with nothing changed, trusted (the creator: one
// container) and untrusted (five phase containers), each the wall time of the cnbp process as the peer's is
// of the podman process; cnbp's own overhead = that wall time - time inside phase containers (from the step's
// call to its exit code, `--json`'s containerSeconds: a removal the driver does afterwards counts as cnbp's). "in build()" is the part of it after the CLI started and loaded
// the build (`--json`'s seconds - containerSeconds), the figure earlier runs reported as cnbp's own.
// Targets (issue 6): overhead < 1.5 s; trusted rebuild < 1.5x the peer's cached rebuild.
// Usage: pnpm build && bash scripts/engines/start.sh && bash scripts/stacks/build.sh && node bench/build-rebuild.mjs [runs=5]
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[2] ?? 5);
const repo = new URL("..", import.meta.url).pathname;
const id = Math.random().toString(36).slice(2, 8);
const builder = `127.0.0.1:5000/cnbp-bench/${id}/builder:1`;
const image = `localhost/cnbp-bench/${id}/app:1`;
const peer = `localhost/cnbp-bench/${id}/peer:1`;
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-build-"));
const app = join(work, "app");
cpSync(join(repo, "examples/hello/app"), app, { recursive: true });
const env = { ...process.env, CNBP_CACHE_DIR: join(work, "cache"), CNBP_CONFIG: join(work, "config.toml") };

const cnbp = (...args) =>
  execFileSync(process.execPath, [join(repo, "packages/cli/dist/main.js"), ...args], {
    env,
    encoding: "utf8",
  });
const seconds = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (s) => `${s.toFixed(2)} s`;

try {
  cnbp("builder", "create", builder, "--config", join(repo, "examples/hello/builder.toml"), "--publish");
  const build = (...extra) => {
    let out = "";
    const wall = seconds(() => {
      out = cnbp(
        "build",
        image,
        "--path",
        app,
        "--builder",
        builder,
        "--driver",
        "podman",
        "--json",
        ...extra,
      );
    });
    return { wall, ...JSON.parse(out) };
  };

  writeFileSync(
    join(work, "Dockerfile"),
    [
      "FROM localhost/cnbp-stacks/busybox-run:latest",
      "USER 0",
      "COPY app /workspace",
      "RUN echo 'Hello from a Cloud Native Buildpacks app built by cnbp!' > /greeting",
      "USER 1001",
      'ENTRYPOINT ["cat", "/greeting"]',
      "",
    ].join("\n"),
  );
  const podmanBuild = () =>
    execFileSync("podman", ["build", "--quiet", "--layers", "-t", peer, work], {
      stdio: ["ignore", "ignore", "inherit"],
    });

  const modes = { trusted: ["--trust-builder"], untrusted: [] };
  const results = {};
  build("--trust-builder"); // warm-up: builder pulled, run image staged, cache filled
  podmanBuild();
  const peerTimes = [];
  for (const mode of Object.keys(modes)) results[mode] = { wall: [], overhead: [], inBuild: [] };
  for (let i = 0; i < runs; i++) {
    // interleaved, so that load on the machine falls on all three alike
    peerTimes.push(seconds(podmanBuild));
    for (const [mode, extra] of Object.entries(modes)) {
      const r = build(...extra);
      results[mode].wall.push(r.wall);
      results[mode].overhead.push(r.wall - r.containerSeconds);
      results[mode].inBuild.push(r.seconds - r.containerSeconds);
    }
  }
  const peerMedian = median(peerTimes);
  console.log(`app examples/hello, ${runs} runs each after a warm-up, medians`);
  console.log(`podman build, cached (peer):    ${f(peerMedian)}`);
  let ok = true;
  for (const [mode, r] of Object.entries(results)) {
    const wall = median(r.wall);
    const overhead = median(r.overhead);
    console.log(
      `cnbp build rebuild, ${mode.padEnd(9)}: ${f(wall)}  ratio ${(wall / peerMedian).toFixed(2)}  cnbp's own ${f(overhead)} (in build() ${f(median(r.inBuild))})`,
    );
    if (overhead >= 1.5) ok = false;
    if (mode === "trusted" && wall / peerMedian >= 1.5) ok = false;
  }
  console.log(ok ? "PASS" : "FAIL: targets are overhead < 1.5 s and a trusted rebuild < 1.5x the peer");
  process.exitCode = ok ? 0 : 1;
} finally {
  execFileSync("podman", ["rmi", "-f", image, peer, builder], { stdio: "ignore" });
  for (const v of execFileSync("podman", ["volume", "ls", "-q", "--filter", `label=io.cnbp.image=${image}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean))
    execFileSync("podman", ["volume", "rm", "-f", v], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
}
