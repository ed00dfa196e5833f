import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MediaType, sha256Digest } from "../oci.js";
import { RegistryClient } from "./client.js";
import type { Keychain } from "./keychain.js";
import { errorOf, randomBlob, randomImage, randomRepo, type TestImage } from "./test-support/images.js";
import { answer, type FaultProxy, freePort, REGISTRY, startProxy } from "./test-support/servers.js";

const anonymous: Keychain = { resolve: async () => undefined };
const client = () => new RegistryClient({ keychain: anonymous, retries: 3, retryDelayMs: 1 });

let proxy: FaultProxy;
let image: TestImage;
let repo: string;
let ref: string;
const layer = () => image.layers[0] ?? image.config;

beforeAll(async () => {
  proxy = await startProxy();
  image = randomImage([300_000]);
  repo = randomRepo();
  const direct = client();
  for (const b of [...image.layers, image.config])
    await direct.pushBlob(`${REGISTRY}/${repo}`, b.descriptor, b.bytes);
  await direct.putManifest(`${REGISTRY}/${repo}:1`, image.manifest, MediaType.ociManifest);
  ref = `${proxy.host}/${repo}:1`;
});
afterAll(async () => {
  await proxy?.close();
});
beforeEach(() => {
  proxy.intercept = undefined;
  proxy.requests.length = 0;
});

/** Counts requests matching `test` and lets `act` handle the n-th (1-based); others pass. */
function on(test: (method: string, path: string) => boolean, act: Parameters<typeof startProxy>[1]) {
  let n = 0;
  proxy.intercept = (req, res, forward) => {
    if (!test(req.method ?? "", req.url ?? "")) return false;
    n++;
    return act?.(Object.assign(req, { n }), res, forward) ?? false;
  };
}
const nth = (req: unknown) => (req as { n: number }).n;
const isManifest = (m: string, p: string) => m === "GET" && p.includes("/manifests/");
const isBlob = (m: string, p: string) => m === "GET" && p.includes(`/blobs/${layer().descriptor.digest}`);

describe("retries", () => {
  it("retries a 500 and succeeds", async () => {
    on(isManifest, (req, res) => {
      if (nth(req) > 1) return false;
      answer(req, res, 500, {}, "boom");
      return true;
    });
    expect((await client().getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(proxy.requests.filter((r) => isManifest(r.method, r.path))).toHaveLength(2);
  });

  it("gives up after the bounded number of retries, naming the answer", async () => {
    on(isManifest, (req, res) => {
      answer(
        req,
        res,
        503,
        { "content-type": "application/json" },
        '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}',
      );
      return true;
    });
    const err = await errorOf(client().getManifest(ref));
    expect(err.code).toBe("CNBP_REGISTRY_RESPONSE");
    expect(err.message).toBe(
      `${ref}: registry ${proxy.host} answered 503 Service Unavailable to GET manifest 1: UNAVAILABLE: service unavailable`,
    );
    expect(proxy.requests.filter((r) => isManifest(r.method, r.path))).toHaveLength(4);
  });

  it("waits as Retry-After says on 429", async () => {
    const waits: number[] = [];
    const c = new RegistryClient({
      keychain: anonymous,
      retryDelayMs: 1,
      sleep: async (ms) => void waits.push(ms),
    });
    on(isManifest, (req, res) => {
      if (nth(req) > 1) return false;
      answer(req, res, 429, { "retry-after": "2" });
      return true;
    });
    expect((await c.getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(waits).toEqual([2_000]);
  });

  it("does not retry a 4xx", async () => {
    on(isManifest, (req, res) => {
      answer(
        req,
        res,
        400,
        { "content-type": "application/json" },
        '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}',
      );
      return true;
    });
    const err = await errorOf(client().getManifest(ref));
    expect(err.message).toBe(
      `${ref}: registry ${proxy.host} answered 400 Bad Request to GET manifest 1: MANIFEST_INVALID: manifest invalid`,
    );
    expect(proxy.requests.filter((r) => isManifest(r.method, r.path))).toHaveLength(1);
  });

  it("says image not found on 404", async () => {
    const missing = `${proxy.host}/${randomRepo()}:2`;
    const err = await errorOf(client().getManifest(missing));
    expect(err.code).toBe("CNBP_REGISTRY_IMAGE_NOT_FOUND");
    expect(err.message).toBe(`${missing}: image not found`);
  });

  it("retries a refused connection, then says the registry cannot be reached", async () => {
    const port = await freePort();
    const gone = `127.0.0.1:${port}/${repo}:1`;
    const err = await errorOf(client().getManifest(gone));
    expect(err.code).toBe("CNBP_REGISTRY_UNREACHABLE");
    expect(err.message).toBe(
      `${gone}: cannot reach registry 127.0.0.1:${port}: connection refused (tried 4 times)`,
    );
  });

  it("retries a connection closed before any answer", async () => {
    on(isManifest, (req) => {
      if (nth(req) > 2) return false;
      req.socket.destroy();
      return true;
    });
    expect((await client().getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(proxy.requests.filter((r) => isManifest(r.method, r.path))).toHaveLength(3);
  });
});

describe("blobs that go wrong", () => {
  it("resumes a blob whose connection drops midway, with a Range request", async () => {
    on(isBlob, (req, _res, forward) => {
      if (nth(req) > 1) return false;
      forward({ cutAfter: 100_000 });
      return true;
    });
    const bytes = await client().getBlob(ref, layer().descriptor);
    expect(bytes.equals(layer().bytes)).toBe(true);
    const gets = proxy.requests.filter((r) => isBlob(r.method, r.path));
    expect(gets.map((r) => r.headers.range)).toEqual([undefined, "bytes=100000-"]);
  });

  it("skips what it already had when the registry ignores Range", async () => {
    on(isBlob, (req, _res, forward) => {
      delete req.headers.range;
      if (nth(req) > 1) return false;
      forward({ cutAfter: 70_000 });
      return true;
    });
    expect((await client().getBlob(ref, layer().descriptor)).equals(layer().bytes)).toBe(true);
  });

  it("gives up on a blob whose connection keeps dropping, saying how far it got", async () => {
    on(isBlob, (req, _res, forward) => {
      forward({ cutAfter: nth(req) === 1 ? 1_000 : 0 });
      return true;
    });
    const { digest } = layer().descriptor;
    const err = await errorOf(client().getBlob(ref, layer().descriptor));
    expect(err.code).toBe("CNBP_REGISTRY_UNREACHABLE");
    expect(err.message).toBe(
      `${ref}: connection to registry ${proxy.host} lost while downloading blob ${digest}, after 1000 of 300000 bytes (tried 4 times): connection closed by the other side`,
    );
  });

  it("fails a blob whose bytes do not match its digest, naming the blob, at the end of the stream", async () => {
    const mangled = Buffer.from(layer().bytes);
    mangled[1234] = (mangled[1234] ?? 0) ^ 1;
    on(isBlob, (_req, _res, forward) => {
      forward({ mangle: () => mangled });
      return true;
    });
    const { digest } = layer().descriptor;
    const stream = await client().openBlob(ref, digest);
    let seen = 0;
    const err = await errorOf(
      (async () => {
        for await (const chunk of stream) seen += (chunk as Buffer).length;
      })(),
    );
    expect(seen).toBe(300_000);
    expect(err.code).toBe("CNBP_REGISTRY_DIGEST_MISMATCH");
    expect(err.message).toBe(
      `${ref}: blob ${digest} is corrupt: its content has digest ${sha256Digest(mangled)}`,
    );
    // with the size known, too many bytes fail before the end
    on(isBlob, (req, res) => {
      answer(req, res, 200, {}, "x".repeat(10));
      return true;
    });
    const big = await errorOf(client().getBlob(ref, { digest, size: 5 }));
    expect(big.message).toBe(
      `${ref}: blob ${digest} is corrupt: it has more than the 5 bytes its descriptor states`,
    );
  });

  it("fails a manifest whose bytes do not match the digest it was asked by, or the digest the registry says", async () => {
    on(isManifest, (_req, _res, forward) => {
      forward({
        mangle: (body) => Buffer.from(body.toString().replace('"schemaVersion":2', '"schemaVersion":3')),
      });
      return true;
    });
    const wrong = sha256Digest(image.manifest.toString().replace('"schemaVersion":2', '"schemaVersion":3'));
    const byDigest = `${proxy.host}/${repo}@${image.manifestDigest}`;
    const err = await errorOf(client().getManifest(byDigest));
    expect(err.code).toBe("CNBP_REGISTRY_DIGEST_MISMATCH");
    expect(err.message).toBe(
      `${byDigest}: manifest ${image.manifestDigest} is corrupt: its content has digest ${wrong}`,
    );
    const byTag = await errorOf(client().getManifest(ref));
    expect(byTag.message).toBe(
      `${ref}: manifest ${image.manifestDigest} is corrupt: its content has digest ${wrong}`,
    );
  });

  it("follows a redirect to storage elsewhere", async () => {
    const storage = await startProxy();
    try {
      on(isBlob, (req, res) => {
        answer(req, res, 307, { location: `http://${storage.host}${req.url}` });
        return true;
      });
      expect((await client().getBlob(ref, layer().descriptor)).equals(layer().bytes)).toBe(true);
      expect(storage.requests.map((r) => r.method)).toEqual(["GET"]);
    } finally {
      await storage.close();
    }
  });
});

describe("uploads that go wrong", () => {
  const isUpload = (m: string) => m === "PUT" || m === "PATCH";

  it("starts a new session when the PUT of an upload fails with 500, counting the bytes sent twice", async () => {
    const b = randomBlob(50_000);
    on(
      (m, p) => isUpload(m) && p.includes("/blobs/uploads/"),
      (req, res) => {
        if (nth(req) > 1) return false;
        answer(req, res, 500);
        return true;
      },
    );
    const target = `${proxy.host}/${randomRepo()}`;
    const result = await client().pushBlob(target, b.descriptor, b.bytes);
    expect(result).toMatchObject({ how: "uploaded", uploaded: 100_000 });
    expect(proxy.requests.map((r) => r.method)).toEqual(["HEAD", "POST", "PUT", "POST", "PUT"]);
    expect((await client().getBlob(target, b.descriptor)).equals(b.bytes)).toBe(true);
  });

  it("starts a new session when the connection drops during a chunk", async () => {
    const b = randomBlob(100_000);
    on(
      (m) => m === "PATCH",
      (req) => {
        if (nth(req) !== 2) return false;
        req.socket.destroy();
        return true;
      },
    );
    const target = `${proxy.host}/${randomRepo()}`;
    const result = await client().pushBlob(
      target,
      b.descriptor,
      () => [b.bytes.subarray(0, 30_000), b.bytes.subarray(30_000)],
      {
        upload: "chunked",
        chunkSize: 40_000,
      },
    );
    expect(result.how).toBe("uploaded");
    expect(proxy.requests.map((r) => r.method)).toEqual([
      "HEAD",
      "POST",
      "PATCH",
      "PATCH",
      "POST",
      "PATCH",
      "PATCH",
      "PATCH",
      "PUT",
    ]);
    expect((await client().getBlob(target, b.descriptor)).equals(b.bytes)).toBe(true);
  });

  it("gives up on uploads after the bounded number of sessions", async () => {
    const b = randomBlob(1_000);
    on(
      (m) => m === "PUT",
      (req, res) => {
        answer(req, res, 502);
        return true;
      },
    );
    const target = `${proxy.host}/${randomRepo()}`;
    const err = await errorOf(client().pushBlob(target, b.descriptor, b.bytes));
    expect(err.code).toBe("CNBP_REGISTRY_RESPONSE");
    expect(err.message).toBe(
      `${target}:latest: registry ${proxy.host} answered 502 Bad Gateway to PUT blob ${b.descriptor.digest} (upload tried 4 times)`,
    );
    expect(proxy.requests.filter((r) => r.method === "POST")).toHaveLength(4);
  });
});
