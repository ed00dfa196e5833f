#!/usr/bin/env node
// A rebuild where nothing changed: an app image with four launch layers (64 MiB in all by default) is exported
// to the local registry, the analyzer runs again for the same image, and it is exported again unchanged. The
// bytes sent are counted twice, independently: by the exporter (ExportResult.layers[].bytesWritten and
// bytesWritten) and by a counting HTTP proxy on loopback in front of the registry, which adds up the request
// bodies of blob uploads (per digest, so the config is told apart from layers) and of manifest PUTs.
// Target (issue 3): a rebuild where nothing changed uploads zero layer bytes to the registry.
// Needs the local registry with the test stacks (scripts/engines/start.sh, scripts/stacks/build.sh).
// Usage: pnpm build && node bench/rebuild-upload.mjs [total-MiB=64]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient } from "../packages/core/dist/index.js";
import { analyzer, checkRegistry, exportImage, makeBuild, REGISTRY, seconds, verdict } from "./lib/build.mjs";

const totalMiB = Number(process.argv[2] ?? 64);
const REPO = `cnbp-bench/${randomBytes(4).toString("hex")}/rebuild`;

/** Forwards to the registry as is (Host kept, so upload Locations point back here), counting what is sent. */
function countingProxy() {
  const counts = { blobs: new Map(), manifests: 0, requests: 0 };
  const sessions = new Map(); // upload session path -> bytes sent to it so far
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://proxy");
    let bytes = 0;
    counts.requests++;
    req.on("data", (chunk) => {
      bytes += chunk.length;
    });
    req.on("end", () => {
      if (url.pathname.includes("/blobs/uploads/")) {
        const sent = (sessions.get(url.pathname) ?? 0) + bytes;
        const digest = url.searchParams.get("digest");
        sessions.set(url.pathname, digest ? 0 : sent);
        if (digest) counts.blobs.set(digest, (counts.blobs.get(digest) ?? 0) + sent);
      } else if (req.method === "PUT" && url.pathname.includes("/manifests/")) counts.manifests += bytes;
    });
    const [host, port] = REGISTRY.split(":");
    const upstream = request(
      { host, port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => res.destroy(err));
    req.pipe(upstream);
  });
  return {
    counts,
    reset: () => {
      counts.blobs = new Map();
      counts.manifests = 0;
      counts.requests = 0;
    },
    listen: () =>
      new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port))),
    close: () => server.close(),
  };
}

await checkRegistry();
const proxy = countingProxy();
const via = `127.0.0.1:${await proxy.listen()}`;
const image = `${via}/${REPO}:1`;
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-"));
const sizes = [totalMiB / 2, totalMiB / 4, totalMiB / 8, totalMiB / 8];
// the run image through the proxy too, so that its layers are mounted as they would be on one registry
const build = makeBuild(work, sizes, `${via}/cnbp-stacks/busybox-run:latest`);
const args = ["-run", build.runToml, "-launcher", build.launcher, image];

/** analyzer then exporter; what the exporter says it sent and what the proxy saw. */
async function buildOnce() {
  await analyzer(["-run", build.runToml, image], build.env);
  proxy.reset();
  const start = process.hrtime.bigint();
  const result = await exportImage(args, build.env);
  const s = seconds(start);
  const manifest = await new RegistryClient().getManifest(`${REGISTRY}/${REPO}:1`);
  const configDigest = JSON.parse(manifest.bytes.toString()).config.digest;
  let layers = 0;
  for (const [digest, bytes] of proxy.counts.blobs) if (digest !== configDigest) layers += bytes;
  return {
    s,
    result,
    reported: result.layers.reduce((n, l) => n + l.bytesWritten, 0),
    seen: { layers, config: proxy.counts.blobs.get(configDigest) ?? 0, manifest: proxy.counts.manifests },
    requests: proxy.counts.requests,
  };
}

let first;
let again;
try {
  first = await buildOnce();
  again = await buildOnce();
} finally {
  proxy.close();
  rmSync(work, { recursive: true, force: true });
}

const line = (what, b) =>
  console.log(
    `${what} ${b.s.toFixed(2)} s; exporter: layers ${b.reported} bytes, all blobs ${b.result.bytesWritten} bytes; ` +
      `proxy: layers ${b.seen.layers}, config ${b.seen.config}, manifest ${b.seen.manifest} bytes (${b.requests} requests)`,
  );
console.log(
  `app image with launch layers of ${sizes.join(" + ")} MiB on ${REGISTRY} (through the counting proxy)`,
);
line("first export:  ", first);
line("rebuild export:", again);
const origins = again.result.layers.map((l) => l.origin);
console.log(
  `rebuild layers: ${origins.filter((o) => o === "reused").length} reused, ${origins.filter((o) => o === "new").length} new; same digest: ${again.result.digest === first.result.digest}`,
);
verdict(
  again.reported === 0 && again.seen.layers === 0,
  `rebuild uploaded ${again.seen.layers} layer bytes (proxy), ${again.reported} (exporter) (target 0)`,
);
