import { execFileSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RegistryError } from "./errors.js";
import { tempDir } from "./test-support/servers.js";
import { isLoopbackHost, Transport } from "./transport.js";

const ctx = {
  registry: "registry.example",
  host: "registry.example",
  repository: "app",
  image: "registry.example/app:latest",
  access: "pull" as const,
};

async function listen(server: http.Server | https.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe("scheme choice", () => {
  it("knows loopback hosts", () => {
    for (const host of [
      "localhost",
      "localhost:5000",
      "127.0.0.1",
      "127.1.2.3:80",
      "[::1]",
      "[::1]:5000",
      "LOCALHOST",
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      "registry.example",
      "128.0.0.1",
      "10.0.0.1:5000",
      "[::2]:5000",
      "localhost.example.com",
      "docker.io",
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("uses HTTPS for other hosts without probing, and plain HTTP only for loopback and listed hosts", async () => {
    const t = new Transport({ insecureRegistries: ["registry.internal:5000", "other.internal"] });
    expect(await t.scheme("registry.example")).toBe("https");
    expect(await t.scheme("ghcr.io")).toBe("https");
    expect(t.allowsPlainHttp("registry.internal:5000")).toBe(true);
    expect(t.allowsPlainHttp("registry.internal:5001")).toBe(false);
    expect(t.allowsPlainHttp("other.internal:443")).toBe(true);
    expect(t.allowsPlainHttp("registry.example")).toBe(false);
    expect(t.allowsPlainHttp("localhost:5000")).toBe(true);
  });

  it("probes a loopback host: plain HTTP when it does not speak TLS, HTTPS when it does", async () => {
    const plain = http.createServer((_req, res) => res.end("{}"));
    const plainHost = await listen(plain);
    const dir = await tempDir("cnbp-tls-");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    const tls = https.createServer(
      { key: await readFile(join(dir, "key.pem")), cert: await readFile(join(dir, "cert.pem")) },
      (_req, res) => res.end("{}"),
    );
    const tlsHost = await listen(tls);
    try {
      const t = new Transport();
      expect(await t.scheme(plainHost)).toBe("http");
      expect((await t.url(plainHost, "/v2/x")).href).toBe(`http://${plainHost}/v2/x`);
      // an untrusted certificate still means HTTPS: the error about it comes later, not a silent downgrade
      expect(await t.scheme(tlsHost)).toBe("https");
    } finally {
      plain.close();
      tls.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to follow a registry to a plain HTTP address elsewhere", () => {
    const t = new Transport();
    expect(() => t.checkUrl(new URL("https://auth.example/token"), ctx)).not.toThrow();
    expect(() => t.checkUrl(new URL("http://127.0.0.1:9999/token"), ctx)).not.toThrow();
    let error: unknown;
    try {
      t.checkUrl(new URL("http://auth.example/token"), ctx);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("CNBP_REGISTRY_INSECURE");
    expect((error as RegistryError).message).toBe(
      "registry.example/app:latest: registry registry.example sent us to http://auth.example, which is not HTTPS; list auth.example as an insecure registry if that is intended",
    );
  });
});

describe("retries", () => {
  it("backs off exponentially with jitter, within bounds", async () => {
    const waits: number[] = [];
    const t = new Transport({
      retryDelayMs: 100,
      maxRetryDelayMs: 1_000,
      sleep: async (ms) => void waits.push(ms),
    });
    for (let attempt = 1; attempt <= 6; attempt++) await t.backoff(attempt);
    const ceilings = [100, 200, 400, 800, 1_000, 1_000];
    waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual((ceilings[i] as number) / 2);
      expect(ms).toBeLessThanOrEqual(ceilings[i] as number);
    });
  });

  it("does not retry requests that are not idempotent", async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.writeHead(500).end();
    });
    const host = await listen(server);
    try {
      const t = new Transport({ retryDelayMs: 1 });
      const url = new URL(`http://${host}/v2/app/blobs/uploads/x`);
      expect((await t.send({ method: "PATCH", url, body: "abc", idempotent: false }, ctx)).status).toBe(500);
      expect(hits).toBe(1);
      expect((await t.send({ method: "GET", url, idempotent: true }, ctx)).status).toBe(500);
      expect(hits).toBe(5);
    } finally {
      server.close();
    }
  });
});
