/**
 * A builder.toml buildpack `uri` on https://: a local HTTPS server on loopback with a throwaway self-signed
 * certificate (made with openssl), trusted by the cnbp process through NODE_EXTRA_CA_CERTS, serves a .tgz
 * of a buildpack, which lands in the builder as its own layer.
 */
import { createReadStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ImageConfig, Manifest, parseReference, RegistryClient, readLayer } from "@cnbp/core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, inRegistry, REGISTRY, RUN_ID, STACKS } from "#test-utils";

const client = new RegistryClient();
const REPO = `${REGISTRY}/cnbp-test/${RUN_ID}`;

let dir: string;
let server: Server;
let base: string;
let env: Record<string, string>;

async function builderToml(name: string, uri: string) {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      `[[buildpacks]]\nuri = "${uri}"`,
      '[[order]]\n[[order.group]]\nid = "ex/remote"',
      `[build]\nimage = "${inRegistry(STACKS.busybox.build)}"`,
      `[run]\n[[run.images]]\nimage = "${inRegistry(STACKS.busybox.run)}"`,
      "",
    ].join("\n"),
  );
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-https-e2e-"));
  const bp = join(dir, "remote");
  await mkdir(join(bp, "bin"), { recursive: true });
  await writeFile(
    join(bp, "buildpack.toml"),
    'api = "0.12"\n[buildpack]\nid = "ex/remote"\nversion = "1.2.3"\n',
  );
  for (const script of ["detect", "build"]) {
    await writeFile(join(bp, "bin", script), "#!/bin/sh\nexit 0\n");
    await chmod(join(bp, "bin", script), 0o755);
  }
  await execa("tar", ["-czf", join(dir, "remote.tgz"), "-C", bp, "."]);
  await execa("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
    ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
  ]);
  server = createServer(
    { key: await readFile(join(dir, "key.pem")), cert: await readFile(join(dir, "cert.pem")) },
    (req, res) => {
      if (req.url !== "/buildpacks/remote.tgz") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/gzip" });
      createReadStream(join(dir, "remote.tgz")).pipe(res);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await mkdir(join(dir, "tmp"));
  env = {
    CNBP_CACHE_DIR: join(dir, "cache"),
    TMPDIR: join(dir, "tmp"),
    NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
  };
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp builder create with an https:// buildpack", () => {
  it("downloads the .tgz and puts the buildpack in the builder", async () => {
    const config = await builderToml("builder.toml", `${base}/buildpacks/remote.tgz`);
    const name = `${REPO}/https-builder:1`;
    const r = await cnbp(["builder", "create", name, "--config", config, "--publish"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^written\s+[0-9a-f]{12}\s+\d+ buildpack ex\/remote@1\.2\.3$/m);

    const ref = parseReference(name);
    const manifest = Manifest.parse(JSON.parse((await client.getManifest(ref)).bytes.toString("utf8")));
    const image = JSON.parse((await client.getBlob(ref, manifest.config)).toString("utf8")) as ImageConfig;
    const layers = JSON.parse(image.config?.Labels?.["io.buildpacks.buildpack.layers"] as string);
    const diffId = layers["ex/remote"]["1.2.3"].layerDiffID as string;
    expect(layers).toEqual({ "ex/remote": { "1.2.3": { api: "0.12", layerDiffID: diffId } } });
    const layer = manifest.layers[image.rootfs.diff_ids.indexOf(diffId as `sha256:${string}`)];
    if (!layer) throw new Error("the buildpack's layer is not in the builder");
    const entries: string[] = [];
    for await (const e of readLayer(await client.openBlob(ref, layer)))
      entries.push(`${e.path} ${e.mode.toString(8)} ${e.uid}:${e.gid}`);
    expect(entries).toEqual([
      "/cnb/buildpacks/ex_remote 755 0:0",
      "/cnb/buildpacks/ex_remote/1.2.3 755 0:0",
      "/cnb/buildpacks/ex_remote/1.2.3/bin 755 0:0",
      "/cnb/buildpacks/ex_remote/1.2.3/bin/build 755 0:0",
      "/cnb/buildpacks/ex_remote/1.2.3/bin/detect 755 0:0",
      "/cnb/buildpacks/ex_remote/1.2.3/buildpack.toml 644 0:0",
    ]);
    // the download went into the run's scratch dir, which is gone
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("names the line and the HTTP status of a download that fails, and an untrusted certificate", async () => {
    const missing = `${base}/buildpacks/missing.tgz`;
    const config = await builderToml("missing.toml", missing);
    const r = await cnbp(["builder", "create", `${REPO}/https-missing:1`, "--config", config, "--publish"], {
      env,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `error: ${config}:2: buildpacks[0].uri cannot download ${missing}: HTTP 404 Not Found`,
    );

    const url = `${base}/buildpacks/remote.tgz`;
    const untrusted = await builderToml("untrusted.toml", url);
    const { NODE_EXTRA_CA_CERTS: _, ...withoutCa } = env;
    const u = await cnbp(
      ["builder", "create", `${REPO}/https-untrusted:1`, "--config", untrusted, "--publish"],
      {
        env: withoutCa,
      },
    );
    expect(u.exitCode).toBe(1);
    expect(u.stderr).toBe(
      `error: ${untrusted}:2: buildpacks[0].uri cannot download ${url}: fetch failed (self-signed certificate)`,
    );
  });
});
