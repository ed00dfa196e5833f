/**
 * Builds one after another, as a platform runs them: analyzer, restorer, a buildpack's build, exporter, each
 * phase the real lifecycle binary dropping to the build user, with a cache directory or a cache image (behind a
 * loopback proxy that counts what is uploaded). The second build finds its layers restored and uploads no layer
 * byte; a corrupt cache is reported, the buildpack rebuilds, and the next cache is healthy again.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inRegistry, REGISTRY, REPO_ROOT, RUN_ID, STACK_USER, STACKS } from "#test-utils";

const MAIN = join(REPO_ROOT, "packages/lifecycle/dist/main.js");
const BP = "example/node";
const BUILD_USER = { uid: STACK_USER.buildUid, gid: STACK_USER.gid };

/** The buildpack's layers: what it writes when a layer is not there, and the layer's types. */
const LAYERS = {
  deps: { types: "launch = true\ncache = true", files: { "lib/a.js": "module.exports = 1\n" } },
  tools: { types: "build = true\ncache = true", files: { "bin/tool": "#!/bin/sh\necho tool\n" } },
  downloads: { types: "cache = true", files: { "node.tar.gz": "pretend this is a download\n" } },
  web: { types: "launch = true", files: { "index.js": "console.log('hi')\n" } },
} as const;
const CACHED = ["deps", "downloads", "tools"] as const;

let dir: string;
let layers: string;
let proxy: CountingProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-cache-cycle-"));
  // the build user must reach the layers, the app and the cache through this dir
  await chmod(dir, 0o755);
  layers = join(dir, "layers");
  await mkdir(join(dir, "workspace"));
  await writeFile(join(dir, "workspace", "server.js"), "console.log('app')\n");
  await copyFile("/bin/busybox", join(dir, "launcher"));
  await writeFile(join(dir, "run.toml"), `[[images]]\nimage = "${inRegistry(STACKS.busybox.run)}"\n`);
  // the platform's cache volume: there, and root's, until the lifecycle gives it to the build user
  await mkdir(join(dir, "cache"));
  proxy = await startCountingProxy(REGISTRY);
});
afterAll(async () => {
  await proxy?.close();
  await rm(dir, { recursive: true, force: true });
});

const phase = (name: string, args: readonly string[]) =>
  execa(process.execPath, [MAIN, name, ...args], {
    env: {
      CNB_PLATFORM_API: "0.15",
      CNB_LAYERS_DIR: layers,
      CNB_APP_DIR: join(dir, "workspace"),
      CNB_USER_ID: String(BUILD_USER.uid),
      CNB_GROUP_ID: String(BUILD_USER.gid),
    },
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });

async function ok(name: string, args: readonly string[]) {
  const r = await phase(name, args);
  expect(r.exitCode, `${name}: ${r.stderr}`).toBe(0);
  return { stdout: r.stdout.split("\n"), stderr: r.stderr };
}

/** A fresh layers volume, with the group the detector would have written. */
async function freshLayers() {
  await rm(layers, { recursive: true, force: true });
  await mkdir(layers);
  await writeFile(join(layers, "group.toml"), `[[group]]\nid = "${BP}"\nversion = "1.0.0"\napi = "0.10"\n`);
}

/** The buildpack: makes each layer that is not there, describes every layer; returns the ones it made. */
async function build(): Promise<string[]> {
  const made: string[] = [];
  const bpDir = join(layers, "example_node");
  for (const [name, layer] of Object.entries(LAYERS)) {
    if (!(await exists(join(bpDir, name)))) {
      made.push(name);
      for (const [file, content] of Object.entries(layer.files)) {
        await mkdir(join(bpDir, name, file, ".."), { recursive: true });
        await writeFile(join(bpDir, name, file), content);
      }
    }
    await writeFile(join(bpDir, `${name}.toml`), `[types]\n${layer.types}\n[metadata]\nversion = "1"\n`);
  }
  // what the builder does with the buildpack's cache SBOM
  const sbom = join(layers, "sbom", "cache", "example_node", "tools");
  await mkdir(sbom, { recursive: true });
  await writeFile(join(sbom, "sbom.cdx.json"), '{"bomFormat":"CycloneDX"}\n');
  await mkdir(join(layers, "config"), { recursive: true });
  await writeFile(
    join(layers, "config", "metadata.toml"),
    `[[buildpacks]]\nid = "${BP}"\nversion = "1.0.0"\napi = "0.10"\n\n[[processes]]\ntype = "web"\ncommand = ["node", "server.js"]\ndefault = true\n`,
  );
  await execa("chown", ["-R", `${BUILD_USER.uid}:${BUILD_USER.gid}`, layers]);
  return made.sort();
}

async function cycle(image: string, cache: readonly string[]) {
  await freshLayers();
  await ok("analyzer", ["-run", join(dir, "run.toml"), image]);
  const restored = await ok("restorer", cache);
  const tree = await files(join(layers, "example_node"));
  const made = await build();
  const exported = await ok("exporter", [
    "-run",
    join(dir, "run.toml"),
    "-launcher",
    join(dir, "launcher"),
    ...cache,
    image,
  ]);
  return { restored, tree, made, exported };
}

const cacheLines = (lines: readonly string[]) => lines.filter((l) => / cache layer /.test(l));
/** The exporter's lines when it treated every cached layer the same way. */
const everyCacheLayer = (verb: "Adding" | "Reusing") => [
  ...CACHED.map((name) => `${verb} cache layer '${BP}:${name}'`),
  `${verb} cache layer 'buildpacksio/lifecycle:cache.sbom'`,
];

/** Every file under `root` with its content (directories end in `/`). */
async function files(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[`${relative(root, p)}/`] = "";
        await walk(p);
      } else out[relative(root, p)] = await readFile(p, "utf8");
    }
  };
  await walk(root);
  return out;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** What the restorer leaves for the buildpack when every cached layer came back. */
const RESTORED = {
  "deps/": "",
  "deps/lib/": "",
  "deps/lib/a.js": LAYERS.deps.files["lib/a.js"],
  "deps.toml": '[metadata]\nversion = "1"\n',
  "downloads/": "",
  "downloads/node.tar.gz": LAYERS.downloads.files["node.tar.gz"],
  "downloads.toml": '[metadata]\nversion = "1"\n',
  "tools/": "",
  "tools/bin/": "",
  "tools/bin/tool": LAYERS.tools.files["bin/tool"],
  "tools.sbom.cdx.json": '{"bomFormat":"CycloneDX"}\n',
  "tools.toml": '[metadata]\nversion = "1"\n',
  "web.toml": '[metadata]\nversion = "1"\n',
};

describe("a cache directory across builds", () => {
  const image = `${REGISTRY}/cnbp-test/${RUN_ID}/cycle-dir:latest`;
  const cacheDir = () => join(dir, "cache");

  it("is written by the first build, with every cache=true layer and the cache SBOM", async () => {
    const first = await cycle(image, ["-cache-dir", cacheDir()]);
    expect(first.restored.stdout).toContain("Layer cache not found");
    expect(first.made).toEqual(["deps", "downloads", "tools", "web"]);
    expect(cacheLines(first.exported.stdout)).toEqual(everyCacheLayer("Adding"));
    const committed = join(cacheDir(), "committed");
    const metadata = JSON.parse(
      await readFile(join(committed, "io.buildpacks.lifecycle.cache.metadata"), "utf8"),
    );
    const layer = (types: Record<string, boolean>) => ({
      sha: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      data: { version: "1" },
      build: false,
      launch: false,
      cache: false,
      ...types,
    });
    expect(metadata).toEqual({
      buildpacks: [
        {
          key: BP,
          version: "1.0.0",
          layers: {
            deps: layer({ launch: true, cache: true }),
            downloads: layer({ cache: true }),
            tools: layer({ build: true, cache: true }),
          },
        },
      ],
      sbom: { sha: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
    const shas = [...CACHED.map((n) => metadata.buildpacks[0].layers[n].sha), metadata.sbom.sha];
    expect((await readdir(committed)).sort()).toEqual(
      ["io.buildpacks.lifecycle.cache.metadata", ...shas.map((s) => `${s}.tar`)].sort(),
    );
    // the build user owns the cache, so the next build's phases can replace it
    expect((await stat(committed)).uid).toBe(BUILD_USER.uid);
  });

  it("gives the next build its layers back, and keeps them without copying", async () => {
    const committed = join(cacheDir(), "committed");
    const inodes = async () => {
      const names = (await readdir(committed)).filter((n) => n.endsWith(".tar")).sort();
      return Promise.all(names.map(async (n) => [n, (await stat(join(committed, n))).ino]));
    };
    const before = await inodes();
    const second = await cycle(image, ["-cache-dir", cacheDir()]);
    // the same files, linked into the new cache
    expect(await inodes()).toEqual(before);
    expect(second.tree).toEqual(RESTORED);
    expect(second.made).toEqual(["web"]);
    expect(cacheLines(second.exported.stdout)).toEqual(everyCacheLayer("Reusing"));
    expect(second.exported.stdout).toContain("Reusing layer 'example/node:deps'");
  });

  it("reports a corrupt cached layer, lets the buildpack rebuild it, and heals", async () => {
    const committed = join(cacheDir(), "committed");
    const metadata = JSON.parse(
      await readFile(join(committed, "io.buildpacks.lifecycle.cache.metadata"), "utf8"),
    );
    const sha = metadata.buildpacks[0].layers.downloads.sha;
    const tar = join(committed, `${sha}.tar`);
    const bytes = await readFile(tar);
    // the file's content changed, the tar still well-formed: only the diffID can tell
    const at = bytes.indexOf("a download");
    expect(at).toBeGreaterThan(0);
    bytes.write("A DOWNLOAD", at);
    await writeFile(tar, bytes);

    const third = await cycle(image, ["-cache-dir", cacheDir()]);
    expect(third.restored.stderr).toMatch(
      new RegExp(
        `^Warning: cache directory ${cacheDir()}: cached layer example/node:downloads \\(${sha}\\) is corrupt: its content has diffID sha256:[0-9a-f]{64}: not restoring it$`,
        "m",
      ),
    );
    expect(third.tree).not.toHaveProperty("downloads/");
    expect(third.tree).not.toHaveProperty("downloads.toml");
    expect(third.made).toEqual(["downloads", "web"]);
    expect(third.exported.stderr).toMatch(
      /^Warning: cache directory .*: cached layer example\/node:downloads \(sha256:[0-9a-f]{64}\) is corrupt: its content has diffID sha256:[0-9a-f]{64}: not reusing it$/m,
    );
    expect(cacheLines(third.exported.stdout)).toEqual([
      "Reusing cache layer 'example/node:deps'",
      "Adding cache layer 'example/node:downloads'",
      "Reusing cache layer 'example/node:tools'",
      "Reusing cache layer 'buildpacksio/lifecycle:cache.sbom'",
    ]);

    const fourth = await cycle(image, ["-cache-dir", cacheDir()]);
    expect(fourth.restored.stderr).toBe("");
    expect(fourth.tree).toEqual(RESTORED);
    expect(fourth.made).toEqual(["web"]);
  });
});

describe("a cache image across builds", () => {
  const cacheImage = () => `${proxy.host}/cnbp-test/${RUN_ID}/cycle-cache:latest`;
  const image = () => `${proxy.host}/cnbp-test/${RUN_ID}/cycle-image:latest`;

  it("is pushed by the first build and pulled back by the next, which uploads nothing", async () => {
    const first = await cycle(image(), ["-cache-image", cacheImage()]);
    expect(new Set(proxy.uploads.map((u) => u.repository))).toEqual(
      new Set([`cnbp-test/${RUN_ID}/cycle-cache`, `cnbp-test/${RUN_ID}/cycle-image`]),
    );
    expect(first.made).toEqual(["deps", "downloads", "tools", "web"]);
    expect(cacheLines(first.exported.stdout)).toEqual(everyCacheLayer("Adding"));

    proxy.uploads.length = 0;
    const second = await cycle(image(), ["-cache-image", cacheImage()]);
    expect(second.tree).toEqual(RESTORED);
    expect(second.made).toEqual(["web"]);
    expect(cacheLines(second.exported.stdout)).toEqual(everyCacheLayer("Reusing"));
    // reproducible images: the same layers and configs as last time, already there; only manifests are put
    expect(proxy.uploads).toEqual([]);
  });

  it("that is not a cache image is reported and ignored, and replaced by a good one", async () => {
    // the tag now names the run image: no cache label
    await execa("skopeo", [
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      `docker://${inRegistry(STACKS.busybox.run)}`,
      `docker://${cacheImage()}`,
    ]);
    const third = await cycle(image(), ["-cache-image", cacheImage()]);
    expect(third.restored.stderr).toBe(
      `Warning: cache image ${cacheImage()} is corrupt, ignoring it: it has no label io.buildpacks.lifecycle.cache.metadata`,
    );
    expect(third.made).toEqual(["deps", "downloads", "tools", "web"]);
    const fourth = await cycle(image(), ["-cache-image", cacheImage()]);
    expect(fourth.restored.stderr).toBe("");
    expect(fourth.tree).toEqual(RESTORED);
  });

  it("that cannot be written fails the cache with a warning, not the build", async () => {
    await freshLayers();
    await ok("analyzer", ["-run", join(dir, "run.toml"), image()]);
    await ok("restorer", ["-cache-image", cacheImage()]);
    await build();
    // a new layer: the cache has something to upload
    await writeFile(join(layers, "example_node", "downloads", "extra"), "new\n");
    proxy.denyPushTo.add(`cnbp-test/${RUN_ID}/cycle-cache`);
    try {
      const exported = await ok("exporter", [
        "-run",
        join(dir, "run.toml"),
        "-launcher",
        join(dir, "launcher"),
        "-cache-image",
        cacheImage(),
        image(),
      ]);
      expect(exported.stderr).toBe(
        `Warning: Failed to export cache: ${cacheImage()}: registry ${proxy.host} requires authentication to push; log in with "docker login ${proxy.host}" or set CNB_REGISTRY_AUTH`,
      );
      expect(exported.stdout.filter((l) => /^\*\*\* Images \(sha256:[0-9a-f]{64}\):$/.test(l))).toHaveLength(
        1,
      );
    } finally {
      proxy.denyPushTo.clear();
    }
  });
});

interface CountingProxy {
  readonly host: string;
  /** Blob upload requests with a body: the repository and the bytes sent. */
  readonly uploads: { repository: string; bytes: number }[];
  /** Repositories whose uploads are refused with 403 DENIED, as a registry refuses a push. */
  readonly denyPushTo: Set<string>;
  close(): Promise<void>;
}

/** An HTTP proxy on a free loopback port in front of a registry, counting the bytes of blob uploads. */
async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const [host, port] = upstream.split(":") as [string, string];
  const uploads: CountingProxy["uploads"] = [];
  const denyPushTo = new Set<string>();
  const server = http.createServer((req, res) => {
    const upload = /^\/v2\/(.+)\/blobs\/uploads\//.exec(req.url ?? "");
    if (upload && denyPushTo.has(upload[1] as string)) {
      req.resume();
      res.writeHead(403, { "content-type": "application/json" });
      res.end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
      return;
    }
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on("end", () => {
      if (upload && bytes > 0) uploads.push({ repository: upload[1] as string, bytes });
    });
    const up = http.request(
      { host, port: Number(port), method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: own } = server.address() as { port: number };
  return {
    host: `127.0.0.1:${own}`,
    uploads,
    denyPushTo,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
