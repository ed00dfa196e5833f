#!/usr/bin/env node
// Rebase time against app layer size: two app images are exported by the real exporter on a copy of the
// busybox run image (one with a 1 MiB launch layer, one with a 1 GiB one), a "patched" run image is pushed
// over that copy (an extra layer, a changed label), and the rebaser puts each app image on it, several times,
// in alternating order, each time to a new tag (after one warm-up round that is not counted). Every request
// goes through a counting fetch (the rebaser's `fetch` option): the bytes of requests for layer blobs, and of
// blob uploads, are the layer bytes moved; the rebaser's own count (onWritten) is printed beside them.
// Target (issue 3): rebase time does not grow with app layer size: a 1 GiB app is rebased in about the same
// time as a 1 MiB one (here: median big / median small < 2, and no layer bytes moved).
// Needs the local registry with the test stacks (scripts/engines/start.sh, scripts/stacks/build.sh).
// Usage: pnpm build && node bench/rebase-size.mjs [big-MiB=1024] [repetitions=5]
import { randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  jsonBytes,
  MediaType,
  RegistryClient,
  sha256Digest,
  writeLayer,
} from "../packages/core/dist/index.js";
import {
  analyzer,
  checkRegistry,
  exportImage,
  makeBuild,
  median,
  REGISTRY,
  RUN_IMAGE,
  rebaser,
  seconds,
  verdict,
} from "./lib/build.mjs";

const bigMiB = Number(process.argv[2] ?? 1024);
const reps = Number(process.argv[3] ?? 5);
const ns = `${REGISTRY}/cnbp-bench/${randomBytes(4).toString("hex")}`;
const RUN = `${ns}/run:latest`;
const client = new RegistryClient();

async function readImage(name) {
  const manifest = JSON.parse((await client.getManifest(name)).bytes.toString());
  return { manifest, config: JSON.parse((await client.getBlob(name, manifest.config)).toString()) };
}

/** `base` (read from `from`) as `name`: its layers mounted, `layer` (if any) uploaded, its config edited. */
async function pushRunImage(name, from, layer, edit = () => {}) {
  const base = await readImage(from);
  for (const l of base.manifest.layers)
    await client.pushBlob(name, l, new Uint8Array(), { mountFrom: [from] });
  const layers = [...base.manifest.layers];
  const config = structuredClone(base.config);
  if (layer) {
    const { diffId, ...descriptor } = layer;
    await client.pushBlob(name, descriptor, () => createReadStream(layer.file));
    layers.push({ mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size });
    config.rootfs.diff_ids.push(diffId);
    config.history = [...(config.history ?? []), { created_by: "bench: patched run image" }];
  }
  edit(config);
  const configBytes = jsonBytes(config);
  const configDesc = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  await client.pushBlob(name, configDesc, configBytes);
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers };
  await client.putManifest(name, jsonBytes(manifest), MediaType.ociManifest);
}

/** A fetch that counts the bytes each way of every request, by method and path. */
function countingFetch() {
  const requests = [];
  const fetch = async (input, init = {}) => {
    const r = { method: init.method ?? "GET", path: new URL(String(input)).pathname, sent: 0, received: 0 };
    requests.push(r);
    let body = init.body;
    if (typeof body === "string") r.sent += Buffer.byteLength(body);
    else if (body instanceof Uint8Array) r.sent += body.byteLength;
    else if (body) {
      const source = body;
      body = (async function* () {
        for await (const chunk of source) {
          r.sent += chunk.byteLength;
          yield chunk;
        }
      })();
    }
    const res = await globalThis.fetch(input, { ...init, body });
    if (!res.body) return res;
    const counted = res.body.pipeThrough(
      new TransformStream({
        transform(chunk, controller) {
          r.received += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch, requests };
}

await checkRegistry();
const work = mkdtempSync(join(tmpdir(), "cnbp-bench-"));
const apps = { small: { mib: 1 }, big: { mib: bigMiB } };
const times = { small: [], big: [] };
const moved = { total: 0, layers: 0, reported: 0, requests: 0 };
try {
  await pushRunImage(RUN, RUN_IMAGE);
  for (const [name, app] of Object.entries(apps)) {
    const build = makeBuild(join(work, name), [app.mib], RUN);
    app.image = `${ns}/${name}:1`;
    await analyzer(["-run", build.runToml, app.image], build.env);
    await exportImage(["-run", build.runToml, "-launcher", build.launcher, app.image], build.env);
    rmSync(build.layerDir(0), { recursive: true }); // the image has it now
    app.layerBytes = (await readImage(app.image)).manifest.layers.reduce((n, l) => n + l.size, 0);
  }
  // the patched run image, over the tag the app images name in their label
  const patch = join(work, "patch.tar.gz");
  const patchLayer = await writeLayer(
    [{ kind: "file", path: "/etc/cnbp-patched", content: "patched\n" }],
    patch,
  );
  await pushRunImage(RUN, RUN, { ...patchLayer, file: patch }, (config) => {
    config.config.Labels = { ...config.config.Labels, "io.buildpacks.base.released": "2026-11-29" };
  });
  const layerDigests = new Set();
  for (const name of [RUN, apps.small.image, apps.big.image]) {
    for (const l of (await readImage(name)).manifest.layers) layerDigests.add(l.digest);
  }

  const layersDir = join(work, "rebase-layers");
  mkdirSync(layersDir);
  const env = { CNB_PLATFORM_API: "0.15", CNB_LAYERS_DIR: layersDir, CNB_LOG_LEVEL: "warn" };
  for (let round = 0; round <= reps; round++) {
    for (const name of round % 2 ? ["big", "small"] : ["small", "big"]) {
      const traffic = countingFetch();
      let reported = 0;
      const start = process.hrtime.bigint();
      await rebaser(["-previous-image", apps[name].image, `${ns}/${name}:rebased-${round}`], env, {
        fetch: traffic.fetch,
        onWritten: (w) => {
          reported += w.layers.bytes;
        },
      });
      const s = seconds(start);
      if (round === 0) continue; // warm-up
      times[name].push(s);
      const rebased = await readImage(`${ns}/${name}:rebased-${round}`);
      if (!rebased.manifest.layers.some((l) => l.digest === patchLayer.digest))
        throw new Error("not rebased");
      moved.reported += reported;
      moved.requests += traffic.requests.length;
      for (const r of traffic.requests) {
        moved.total += r.sent + r.received;
        const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(r.path)?.[1];
        if (r.path.includes("/blobs/uploads/") || layerDigests.has(blob)) moved.layers += r.sent + r.received;
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
for (const [name, app] of Object.entries(apps)) {
  console.log(
    `${name} app (${app.mib} MiB launch layer, ${app.layerBytes} bytes of image layers): rebase median ${ms(median(times[name]))} of ${reps} (${times[name].map(ms).join(", ")})`,
  );
}
const ratio = median(times.big) / median(times.small);
console.log(
  `over ${2 * reps} rebases: ${moved.requests} requests, ${moved.total} bytes sent and received in all, ` +
    `${moved.layers} bytes of layer blobs (counted), ${moved.reported} (rebaser's count)`,
);
verdict(ratio < 2, `rebase time big / small = ${ratio.toFixed(2)} (target < 2)`);
verdict(
  moved.layers === 0 && moved.reported === 0,
  `layer bytes moved by the rebases: ${moved.layers} (target 0)`,
);
