/**
 * A builder.toml buildpack `uri` on https://: a local HTTPS server on loopback with a throwaway self-signed
 * certificate (made with openssl), trusted by the cnbp process through NODE_EXTRA_CA_CERTS, serves a .tgz
 * of a buildpack, which lands in the builder as its own layer.
 */
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, REGISTRY, RUN_ID, readRegistryImage, stackTables, writeFiles } from "#test-utils";

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
      stackTables("busybox"),
      "",
    ].join("\n"),
  );
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-https-e2e-"));
  const bp = join(dir, "remote");
  await writeFiles(bp, {
    "buildpack.toml": 'api = "0.12"\n[buildpack]\nid = "ex/remote"\nversion = "1.2.3"\n',
    "bin/detect": "#!/bin/sh\nexit 0\n",
    "bin/build": "#!/bin/sh\nexit 0\n",
  });
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

    const image = await readRegistryImage(name);
    const layers = JSON.parse(image.labels["io.buildpacks.buildpack.layers"] as string);
    const diffId = layers["ex/remote"]["1.2.3"].layerDiffID as string;
    expect(layers).toEqual({ "ex/remote": { "1.2.3": { api: "0.12", layerDiffID: diffId } } });
    expect((await image.entries(diffId)).entries).toEqual([
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
