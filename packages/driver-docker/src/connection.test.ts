// Endpoint resolution on real files: a docker config directory the test writes, no engine needed.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { optionsJsonSchema } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { optionsSchema, resolveEndpoint } from "./index.js";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "cnbp-docker-conn-"));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Writes a docker context `name` with endpoint `host` into the config dir `config`, optionally with TLS files. */
async function context(config: string, name: string, host: string, tls = false) {
  const id = createHash("sha256").update(name).digest("hex");
  await mkdir(join(config, "contexts", "meta", id), { recursive: true });
  await writeFile(
    join(config, "contexts", "meta", id, "meta.json"),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
  if (tls) {
    await mkdir(join(config, "contexts", "tls", id, "docker"), { recursive: true });
    for (const f of ["ca.pem", "cert.pem", "key.pem"])
      await writeFile(join(config, "contexts", "tls", id, "docker", f), `${f} of ${name}\n`);
  }
}

describe("docker endpoint", () => {
  it("is the default socket when nothing says otherwise", () => {
    const e = resolveEndpoint({}, {}, join(home, "nobody"));
    expect(e.host).toBe("unix:///var/run/docker.sock");
    expect(e.from).toBe("the default");
    expect(e.modem.socketPath).toBe("/var/run/docker.sock");
    expect(e.modem.host).toBeUndefined();
  });

  it("takes the host option over DOCKER_HOST, and DOCKER_HOST over the current context", async () => {
    const config = join(home, "ctx", ".docker");
    await context(config, "remote", "tcp://10.1.2.3:2375");
    await writeFile(join(config, "config.json"), JSON.stringify({ currentContext: "remote" }));
    const byContext = resolveEndpoint({}, {}, join(home, "ctx"));
    expect([byContext.host, byContext.from]).toEqual(["tcp://10.1.2.3:2375", 'docker context "remote"']);
    expect(byContext.modem).toMatchObject({ host: "10.1.2.3", port: "2375", protocol: "http" });
    expect(byContext.modem.socketPath).toBeUndefined();
    const env = { DOCKER_HOST: "unix:///run/user/1000/docker.sock" };
    const byEnv = resolveEndpoint({}, env, join(home, "ctx"));
    expect([byEnv.host, byEnv.from, byEnv.modem.socketPath]).toEqual([
      "unix:///run/user/1000/docker.sock",
      "DOCKER_HOST",
      "/run/user/1000/docker.sock",
    ]);
    const byOption = resolveEndpoint({ host: "tcp://127.0.0.1" }, env, join(home, "ctx"));
    expect([byOption.host, byOption.from]).toEqual(["tcp://127.0.0.1", "the host option"]);
    expect(byOption.modem).toMatchObject({ host: "127.0.0.1", port: "2375", protocol: "http" });
    // DOCKER_CONTEXT names the context over config.json, and "default" is the default socket
    expect(resolveEndpoint({}, { DOCKER_CONTEXT: "default" }, join(home, "ctx")).host).toBe(
      "unix:///var/run/docker.sock",
    );
  });

  it("reads TLS files from DOCKER_CERT_PATH with DOCKER_TLS_VERIFY, and from a context's TLS directory", async () => {
    const certs = join(home, "certs");
    await mkdir(certs, { recursive: true });
    for (const f of ["ca.pem", "cert.pem", "key.pem"]) await writeFile(join(certs, f), `${f}\n`);
    const e = resolveEndpoint(
      {},
      { DOCKER_HOST: "tcp://docker.internal", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs },
    );
    expect(e.modem).toMatchObject({ host: "docker.internal", port: "2376", protocol: "https" });
    expect([e.modem.ca, e.modem.cert, e.modem.key].map(String)).toEqual([
      "ca.pem\n",
      "cert.pem\n",
      "key.pem\n",
    ]);
    const plain = resolveEndpoint(
      { tlsVerify: false },
      { DOCKER_HOST: "tcp://docker.internal", DOCKER_TLS_VERIFY: "1" },
    );
    expect(plain.modem).toMatchObject({ port: "2375", protocol: "http", ca: undefined });

    const config = join(home, "tls", ".docker");
    await context(config, "secure", "tcp://10.9.9.9:2376", true);
    const secure = resolveEndpoint({}, { DOCKER_CONTEXT: "secure" }, join(home, "tls"));
    expect(secure.modem).toMatchObject({ host: "10.9.9.9", port: "2376", protocol: "https" });
    expect(String(secure.modem.ca)).toBe("ca.pem of secure\n");
  });

  it("refuses what it cannot use with CNBP_DRIVER_UNAVAILABLE, naming the address and the file", () => {
    const missing = join(home, "no-certs");
    expect(() => resolveEndpoint({ host: "tcp://h:2376", tlsVerify: true, certPath: missing })).toThrow(
      expect.objectContaining({
        code: "CNBP_DRIVER_UNAVAILABLE",
        message: `driver docker: connect: tcp://h:2376 (from the host option): TLS is on but ${join(missing, "ca.pem")} cannot be read (ENOENT: no such file or directory, open '${join(missing, "ca.pem")}')`,
      }),
    );
    expect(() => resolveEndpoint({ host: "ssh://me@h" })).toThrow(
      expect.objectContaining({
        code: "CNBP_DRIVER_UNAVAILABLE",
        message:
          "driver docker: connect: ssh://me@h (from the host option): only unix:// and tcp:// addresses are supported",
      }),
    );
    expect(() => resolveEndpoint({}, { DOCKER_CONTEXT: "gone" }, join(home, "nobody"))).toThrow(
      expect.objectContaining({
        code: "CNBP_DRIVER_UNAVAILABLE",
        message: `driver docker: connect: docker context "gone" has no docker endpoint in ${join(home, "nobody", ".docker", "contexts", "meta", createHash("sha256").update("gone").digest("hex"), "meta.json")}`,
      }),
    );
  });

  it("offers host, tlsVerify and certPath as options, and nothing else", () => {
    expect(Object.keys((optionsJsonSchema(optionsSchema) as { properties: object }).properties)).toEqual([
      "host",
      "tlsVerify",
      "certPath",
    ]);
    expect(optionsSchema.safeParse({ hots: "x" }).success).toBe(false);
  });
});
