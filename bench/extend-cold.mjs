#!/usr/bin/env node
// A cold image-extension build in `cnbp build` against `buildah bud` of the same Dockerfiles, side by side in
// one run. The builder: the busybox stack, one buildpack and one extension whose build.Dockerfile and
// run.Dockerfile COPY a context of some MiB (half random, half text, plus 200 small files), RUN tar | gzip and
// sha256sum over it, set ENV and LABELs. Its bin/generate copies them out of the extension, with a value from
// the app (`nonce.txt`) in a LABEL right after FROM: a new value per run misses cnbp's cache key and every
// step of Buildah's layer cache, so each measured build is cold.
// Figures (medians of N runs after a warm-up, interleaved): cnbp's `extend` phases from `--json` (build
// image, then run image), and inside them the `buildah bud` the driver ran (from the "applying" note to the
// "Successfully tagged" line Buildah prints last, timed on the output as it arrives); the peer, `buildah bud --layers=false` of
// the same Dockerfiles, contexts, base images (the builder image, the run image) and build args; for
// information `buildah bud --layers --no-cache`, which commits every step as the driver does. Then a warm
// rebuild (same nonce): its extend time, and the Dockerfile steps it ran (`STEP n/m` lines), which must be 0.
// Target (issue 7): a cold extension build <= 1.2x the peer; a rebuild runs 0 Dockerfile steps.
// Usage: pnpm build && bash scripts/engines/start.sh && bash scripts/stacks/build.sh &&
//        node bench/extend-cold.mjs [runs=5] [context-MiB=16]
import { execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";

const runs = Number(process.argv[2] ?? 5);
const contextMib = Number(process.argv[3] ?? 16);
const repo = new URL("..", import.meta.url).pathname;
const REGISTRY = "127.0.0.1:5000";
const id = Math.random().toString(36).slice(2, 8);
const builder = `${REGISTRY}/cnbp-bench/${id}/builder:1`;
const runImage = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const image = `localhost/cnbp-bench/${id}/app:1`;
/** On every image either side builds (and on the step images of cnbp's `--layers` builds): how to find them. */
const BENCH_LABEL = "io.cnbp.bench";
/** Where cnbp keeps extended images (packages/core/src/build/extend.ts). */
const EXTENDED_REPO = "localhost/cnbp-extended";
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-extend-"));
const app = join(work, "app");
const env = { ...process.env, CNBP_CACHE_DIR: join(work, "cache"), CNBP_CONFIG: join(work, "config.toml") };

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (s) => `${s.toFixed(2)} s`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** Both Dockerfiles: the same work on the builder image and on the run image; @NONCE@ makes a run cold. */
const dockerfile = (kind) =>
  [
    "ARG base_image",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's build arg
    "FROM ${base_image}",
    `LABEL ${BENCH_LABEL}=${id} ${BENCH_LABEL}.run=@NONCE@`,
    "USER root",
    "COPY data /opt/bench/data",
    "RUN cd /opt/bench && tar -cf - data | gzip > data.tar.gz && sha256sum data/*.* > sums.txt && cat data/small/* | gzip -9 > small.gz",
    "ENV BENCH_DATA=/opt/bench/data",
    `LABEL ${BENCH_LABEL}.kind=${kind}`,
    "ARG user_id",
    "ARG group_id",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own build args
    "USER ${user_id}:${group_id}",
    "",
  ].join("\n");
/** Buildah's `STEP n/m` count: every instruction but the ARG before FROM. */
const DOCKERFILE_STEPS = dockerfile("build").split("\n").filter(Boolean).length - 1;

/** The context: half random (incompressible), half text, in 8 files, plus 200 small text files. */
function fillContext(dir) {
  const part = (contextMib << 20) / 8;
  mkdirSync(join(dir, "small"), { recursive: true });
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(dir, `random-${i}.bin`), randomBytes(part));
    const line = (n) => `${n} ${"line of text in a file of the extension's context ".repeat(2)}${n * 7919}\n`;
    let text = "";
    for (let n = 0; text.length < part; n++) text += line(n);
    writeFileSync(join(dir, `text-${i}.txt`), text.slice(0, part));
  }
  for (let i = 0; i < 200; i++)
    writeFileSync(join(dir, "small", `${i}.txt`), `small file ${i}\n`.repeat(i + 1));
}

const FILES = {
  "bp/app/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "bench/app"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "bp/app/bin/detect": "#!/bin/sh\nexit 0\n",
  "bp/app/bin/build":
    '#!/bin/sh\nset -eu\nprintf \'[[processes]]\\ntype = "web"\\ncommand = ["true"]\\ndefault = true\\n\' > "$CNB_LAYERS_DIR/launch.toml"\n',
  "ext/bench/extension.toml": 'api = "0.10"\n[extension]\nid = "bench/ext"\nversion = "1.0.0"\n',
  "ext/bench/bin/detect": "#!/bin/sh\nexit 0\n",
  // the working directory of bin/generate is the app
  "ext/bench/bin/generate": [
    "#!/bin/sh",
    "set -eu",
    "nonce=$(cat nonce.txt)",
    "for kind in build run; do",
    '  mkdir -p "$CNB_OUTPUT_DIR/context.$kind"',
    '  cp -R "$CNB_EXTENSION_DIR/data" "$CNB_OUTPUT_DIR/context.$kind/"',
    '  sed "s/@NONCE@/$nonce/" "$CNB_EXTENSION_DIR/$kind.Dockerfile" > "$CNB_OUTPUT_DIR/$kind.Dockerfile"',
    "done",
    'chmod -R a+rX "$CNB_OUTPUT_DIR"',
    "",
  ].join("\n"),
  "ext/bench/build.Dockerfile": dockerfile("build"),
  "ext/bench/run.Dockerfile": dockerfile("run"),
  "builder.toml": [
    '[[buildpacks]]\nuri = "bp/app"',
    '[[extensions]]\nuri = "ext/bench"',
    '[[order]]\n[[order.group]]\nid = "bench/app"\nversion = "1.0.0"',
    '[[order-extensions]]\n[[order-extensions.group]]\nid = "bench/ext"\nversion = "1.0.0"',
    `[build]\nimage = "${REGISTRY}/cnbp-stacks/busybox-build:latest"`,
    `[run]\n[[run.images]]\nimage = "${runImage}"`,
    "",
  ].join("\n"),
};

const cnbpSync = (...args) =>
  execFileSync(process.execPath, [join(repo, "packages/cli/dist/main.js"), ...args], {
    env,
    encoding: "utf8",
  });

/** `cnbp build --json` with the nonce `nonce`; its stderr lines carry the time they arrived at. */
function cnbpBuild(nonce) {
  writeFileSync(join(app, "nonce.txt"), nonce);
  const start = process.hrtime.bigint();
  const args = ["build", image, "--path", app, "--builder", builder, "--driver", "podman"];
  const child = spawn(
    process.execPath,
    [join(repo, "packages/cli/dist/main.js"), ...args, "--extend-driver", "buildah", "--json"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let partial = "";
  const lines = [];
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    const t = seconds(start);
    const parts = (partial + c).split("\n");
    partial = parts.pop();
    for (const text of parts) lines.push({ t, text });
  });
  return new Promise((resolve, reject) =>
    child.on("close", (code) => {
      if (partial) lines.push({ t: seconds(start), text: partial });
      if (code !== 0)
        reject(
          new Error(`cnbp build exited with ${code}:\n${lines.map((l) => l.text).join("\n")}\n${stdout}`),
        );
      else resolve({ report: JSON.parse(stdout), lines });
    }),
  );
}

/** What one cnbp build did with the Dockerfiles: extend times, buildah bud's share, steps run, cache hits. */
function extendFigures({ report, lines }) {
  const extend = report.phases.filter((p) => p.phase === "extend").map((p) => p.seconds);
  if (extend.length !== 2)
    throw new Error(`expected two extend phases, got ${JSON.stringify(report.phases)}`);
  const texts = lines.map((l) => l.text);
  /** From the "applying" note to Buildah's last line, when its build is done. */
  const bud = (kind) => {
    const from = texts.findIndex((l) => l.includes(`: applying ${kind}.Dockerfile to `));
    if (from < 0) return undefined;
    const to = texts.findIndex(
      (l, i) => i > from && l.startsWith(`Successfully tagged ${EXTENDED_REPO}/${kind}:`),
    );
    if (to < 0)
      throw new Error(`no "Successfully tagged" after applying ${kind}.Dockerfile:\n${texts.join("\n")}`);
    return lines[to].t - lines[from].t;
  };
  return {
    extend: { build: extend[0], run: extend[1] },
    bud: { build: bud("build"), run: bud("run") },
    steps: texts.filter((l) => /^STEP \d+\/\d+: /.test(l)).length,
    cacheHits: texts.filter((l) => l.startsWith("--> Using cache")).length,
    reused: texts.filter((l) => /Dockerfile unchanged, reusing /.test(l)).length,
  };
}

/** The peer: `buildah bud` of the Dockerfile of `kind` with nonce `nonce`, as cnbp would apply it. */
function buildahBud(kind, nonce, base, user, layers) {
  const dir = join(work, "peer");
  const file = join(dir, `${kind}.Dockerfile`);
  writeFileSync(file, dockerfile(kind).replace("@NONCE@", nonce));
  const [userId, groupId] = user.split(":");
  const args = [
    "bud",
    ...layers,
    "--pull=never",
    "--file",
    file,
    "--tag",
    `localhost/cnbp-bench/${id}/peer-${kind}:1`,
  ];
  for (const [k, v] of Object.entries({
    base_image: base,
    build_id: randomUUID(),
    user_id: userId,
    group_id: groupId,
  }))
    args.push("--build-arg", `${k}=${v}`);
  const start = process.hrtime.bigint();
  execFileSync("buildah", [...args, join(dir, `context.${kind}`)], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return seconds(start);
}

async function main() {
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
    if (path.includes("/bin/")) chmodSync(join(work, path), 0o755);
  }
  fillContext(join(work, "ext/bench/data"));
  for (const kind of ["build", "run"])
    cpSync(join(work, "ext/bench/data"), join(work, `peer/context.${kind}/data`), { recursive: true });
  mkdirSync(app);
  const loadBefore = load();
  cnbpSync("builder", "create", builder, "--config", join(work, "builder.toml"), "--publish");

  // warm-up: the builder pulled into the store, the lifecycle's cache filled
  extendFigures(await cnbpBuild("warmup"));
  const bases = {
    build: [
      builder,
      execFileSync("podman", ["image", "inspect", "--format", "{{.Config.User}}", builder], {
        encoding: "utf8",
      }).trim(),
    ],
    run: [
      runImage,
      execFileSync("podman", ["image", "inspect", "--format", "{{.Config.User}}", runImage], {
        encoding: "utf8",
      }).trim(),
    ],
  };
  const peers = {
    "buildah bud --layers=false (peer)": ["--layers=false"],
    "buildah bud --layers --no-cache": ["--layers", "--no-cache"],
  };
  const bud = (kind, nonce, layers) => buildahBud(kind, nonce, ...bases[kind], layers);
  for (const layers of Object.values(peers)) for (const kind of ["build", "run"]) bud(kind, "warmup", layers);

  const peerTimes = Object.fromEntries(Object.keys(peers).map((name) => [name, []]));
  const cold = [];
  const warm = [];
  const sides = [
    ...Object.entries(peers).map(([name, layers]) => async (i) => {
      const nonce = `p${i}${name.length}`;
      peerTimes[name].push({ build: bud("build", nonce, layers), run: bud("run", nonce, layers) });
    }),
    async (i) => {
      cold.push(extendFigures(await cnbpBuild(`c${i}`)));
      warm.push(extendFigures(await cnbpBuild(`c${i}`)));
    },
  ];
  for (let i = 0; i < runs; i++)
    // interleaved, and each side first in turn, so that load on the machine falls on all alike
    for (let s = 0; s < sides.length; s++) await sides[(i + s) % sides.length](i);

  // the total is the median of each run's build + run, not the sum of the two medians
  const medians = (xs) => ({
    build: median(xs.map((x) => x.build)),
    run: median(xs.map((x) => x.run)),
    total: median(xs.map((x) => x.build + x.run)),
  });
  const line = (label, m, extra = "") =>
    console.log(`${label.padEnd(36)}build ${f(m.build)}  run ${f(m.run)}  total ${f(m.total)}${extra}`);
  console.log(
    `extension on the busybox stack: a context of ${contextMib} MiB (half random, half text) + 200 small files; ` +
      `${DOCKERFILE_STEPS} steps per Dockerfile; ${runs} runs after a warm-up, medians`,
  );
  console.log(`load average at the start: ${loadBefore}; at the end: ${load()}`);
  for (const [name, times] of Object.entries(peerTimes)) line(`${name}:`, medians(times));
  const peer = medians(Object.values(peerTimes)[0]);
  const coldExtend = medians(cold.map((c) => c.extend));
  const ratio = coldExtend.total / peer.total;
  const perRun = cold.map((c, i) => {
    const p = Object.values(peerTimes)[0][i];
    return ((c.extend.build + c.extend.run) / (p.build + p.run)).toFixed(2);
  });
  line("cnbp extend, cold:", coldExtend, `  ratio ${ratio.toFixed(2)} (run by run: ${perRun.join(", ")})`);
  line("  in it, the driver's buildah bud:", medians(cold.map((c) => c.bud)));
  line(
    "  in it, cnbp's own:",
    medians(cold.map((c) => ({ build: c.extend.build - c.bud.build, run: c.extend.run - c.bud.run }))),
  );
  line(
    "cnbp extend, warm rebuild:",
    medians(warm.map((w) => w.extend)),
    `  Dockerfile steps run: ${warm.map((w) => w.steps).join(", ")}`,
  );

  // every step ran, none from a cache; the driver adds one step to each: its `--label`
  const coldWasCold = cold.every(
    (c) => c.steps === 2 * (DOCKERFILE_STEPS + 1) && c.cacheHits === 0 && c.reused === 0,
  );
  const warmRanNothing = warm.every((w) => w.steps === 0 && w.reused === 2);
  if (!coldWasCold)
    console.log(
      `cold builds were not all cold: steps ${cold.map((c) => c.steps)}, cache hits ${cold.map((c) => c.cacheHits)}`,
    );
  const results = [
    [
      coldWasCold && ratio <= 1.2,
      `cold extension build at ${ratio.toFixed(2)}x buildah bud --layers=false (target <= 1.2)`,
    ],
    [
      warmRanNothing,
      `warm rebuilds ran ${Math.max(...warm.map((w) => w.steps))} Dockerfile steps (target 0)`,
    ],
  ];
  for (const [ok, what] of results) console.log(`${ok ? "PASS" : "FAIL"}  ${what}`);
  process.exitCode = results.every(([ok]) => ok) ? 0 : 1;
}

/** Removes the builder's manifest from the registry (its blobs stay until the registry is garbage-collected). */
async function deleteFromRegistry(ref) {
  const [, name, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(ref);
  const url = `http://${REGISTRY}/v2/${name}/manifests`;
  const accept = ["oci.image.index.v1", "oci.image.manifest.v1", "docker.distribution.manifest.v2"]
    .map((t) => `application/vnd.${t}+json`)
    .join(", ");
  const head = await fetch(`${url}/${tag}`, { method: "HEAD", headers: { accept } });
  const digest = head.headers.get("docker-content-digest");
  if (digest) await fetch(`${url}/${digest}`, { method: "DELETE" });
}

try {
  await main();
} finally {
  const made = execFileSync(
    "podman",
    ["images", "-a", "-q", "--no-trunc", "--filter", `label=${BENCH_LABEL}=${id}`],
    {
      encoding: "utf8",
    },
  );
  const ids = [...new Set(made.split("\n").filter(Boolean))];
  execFileSync("podman", ["rmi", "-f", "-i", image, builder, ...ids], { stdio: "ignore" });
  for (const v of execFileSync("podman", ["volume", "ls", "-q", "--filter", `label=io.cnbp.image=${image}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean))
    execFileSync("podman", ["volume", "rm", "-f", v], { stdio: "ignore" });
  await deleteFromRegistry(builder);
  rmSync(work, { recursive: true, force: true });
}
