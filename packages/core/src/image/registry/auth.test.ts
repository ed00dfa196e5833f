import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MediaType } from "../oci.js";
import { parseChallenges } from "./auth.js";
import { RegistryClient } from "./client.js";
import { DockerKeychain } from "./keychain.js";
import { errorOf, randomImage, randomRepo, type TestImage } from "./test-support/images.js";
import {
  type AuthRegistry,
  type FaultProxy,
  REGISTRY,
  requireBearer,
  startAuthRegistry,
  startProxy,
  startTokenServer,
  type TokenServer,
  tempDir,
} from "./test-support/servers.js";

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

/** A client whose keychain sees only `env` (and a home directory with no docker config). */
function clientWith(env: Record<string, string | undefined>, home: string) {
  return new RegistryClient({ keychain: new DockerKeychain({ env, homeDir: home }), retryDelayMs: 1 });
}

async function pushAndPull(c: RegistryClient, ref: string, image: TestImage) {
  for (const b of [...image.layers, image.config]) await c.pushBlob(ref, b.descriptor, b.bytes);
  await c.putManifest(ref, image.manifest, MediaType.ociManifest);
  const got = await c.getManifest(ref);
  expect(got.digest).toBe(image.manifestDigest);
  expect(
    (await c.getBlob(ref, image.layers[0]?.descriptor ?? image.config.descriptor)).length,
  ).toBeGreaterThan(0);
}

let home: string;
beforeAll(async () => {
  home = await tempDir("cnbp-home-");
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("parseChallenges", () => {
  it("reads Bearer and Basic challenges, quoted values with commas and escapes", () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull,push",
        },
      },
    ]);
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=https://x/token , service=reg')).toEqual([
      { scheme: "basic", params: { realm: 'a "b"' } },
      { scheme: "bearer", params: { realm: "https://x/token", service: "reg" } },
    ]);
    expect(parseChallenges("Negotiate")).toEqual([{ scheme: "negotiate", params: {} }]);
  });
});

describe("a registry with htpasswd auth", () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry("cnbp", "s3cret");
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it("says to log in when there are no credentials", async () => {
    const ref = `${registry.host}/${randomRepo()}:latest`;
    const c = clientWith({}, home);
    const err = await errorOf(c.getManifest(ref));
    expect(err.code).toBe("CNBP_REGISTRY_UNAUTHORIZED");
    expect(err.message).toBe(
      `${ref}: registry ${registry.host} requires authentication to pull; log in with "docker login ${registry.host}" or set CNB_REGISTRY_AUTH`,
    );
    const image = randomImage([100]);
    const push = await errorOf(c.pushBlob(ref, image.config.descriptor, image.config.bytes));
    expect(push.message).toBe(
      `${ref}: registry ${registry.host} requires authentication to push; log in with "docker login ${registry.host}" or set CNB_REGISTRY_AUTH`,
    );
    expect(await c.checkReadAccess(ref)).toBe(false);
    expect(await c.checkWriteAccess(ref)).toBe(false);
  });

  it("uses CNB_REGISTRY_AUTH (a full Authorization value per host) to push and pull", async () => {
    const env = { CNB_REGISTRY_AUTH: JSON.stringify({ [registry.host]: basic("cnbp", "s3cret") }) };
    const c = clientWith(env, home);
    const ref = `${registry.host}/${randomRepo()}:1`;
    await pushAndPull(c, ref, randomImage());
    expect(await c.checkWriteAccess(ref)).toBe(true);
  });

  it("authenticates requests sent at the same time, before the registry has challenged", async () => {
    const env = { CNB_REGISTRY_AUTH: JSON.stringify({ [registry.host]: basic("cnbp", "s3cret") }) };
    const ref = `${registry.host}/${randomRepo()}:1`;
    const image = randomImage([1_000, 2_000, 3_000]);
    await pushAndPull(clientWith(env, home), ref, image);
    const c = clientWith(env, home);
    const blobs = await Promise.all([...image.layers, image.config].map((b) => c.getBlob(ref, b.descriptor)));
    expect(blobs.map((b) => b.length)).toEqual([1_000, 2_000, 3_000, image.config.bytes.length]);
  });

  it("says which credentials the registry rejected", async () => {
    const env = {
      CNB_REGISTRY_AUTH: JSON.stringify({ [`https://${registry.host}/v2/`]: basic("cnbp", "wrong") }),
    };
    const ref = `${registry.host}/${randomRepo()}:1`;
    const err = await errorOf(clientWith(env, home).getManifest(ref));
    expect(err.code).toBe("CNBP_REGISTRY_UNAUTHORIZED");
    expect(err.message).toBe(
      `${ref}: registry ${registry.host} rejected the credentials from CNB_REGISTRY_AUTH; log in with "docker login ${registry.host}" or set CNB_REGISTRY_AUTH`,
    );
  });

  it("uses a docker config.json in $DOCKER_CONFIG (base64 auth) and in ~/.docker (username/password)", async () => {
    const configDir = await tempDir("cnbp-docker-config-");
    await writeFile(
      join(configDir, "config.json"),
      JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from("cnbp:s3cret").toString("base64") } } }),
    );
    await pushAndPull(
      clientWith({ DOCKER_CONFIG: configDir }, home),
      `${registry.host}/${randomRepo()}:1`,
      randomImage(),
    );

    const otherHome = await tempDir("cnbp-home-");
    await mkdir(join(otherHome, ".docker"));
    await writeFile(
      join(otherHome, ".docker", "config.json"),
      JSON.stringify({ auths: { [`http://${registry.host}`]: { username: "cnbp", password: "s3cret" } } }),
    );
    await pushAndPull(clientWith({}, otherHome), `${registry.host}/${randomRepo()}:1`, randomImage([10]));

    // CNB_REGISTRY_AUTH comes first
    const env = {
      DOCKER_CONFIG: configDir,
      CNB_REGISTRY_AUTH: JSON.stringify({ [registry.host]: basic("x", "y") }),
    };
    const ref = `${registry.host}/${randomRepo()}:1`;
    expect((await errorOf(clientWith(env, home).getManifest(ref))).message).toContain(
      "rejected the credentials from CNB_REGISTRY_AUTH",
    );
    // a wrong password in the config file is named
    await writeFile(
      join(configDir, "config.json"),
      JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from("cnbp:nope").toString("base64") } } }),
    );
    expect((await errorOf(clientWith({ DOCKER_CONFIG: configDir }, home).getManifest(ref))).message).toBe(
      `${ref}: registry ${registry.host} rejected the credentials from docker config ${join(configDir, "config.json")}; log in with "docker login ${registry.host}" or set CNB_REGISTRY_AUTH`,
    );
    await rm(configDir, { recursive: true, force: true });
    await rm(otherHome, { recursive: true, force: true });
  });

  it("runs docker-credential-<name> from credHelpers and credsStore, with the server URL on stdin", async () => {
    const bin = await tempDir("cnbp-helpers-");
    const configDir = await tempDir("cnbp-docker-config-");
    const script = (user: string) =>
      `#!/bin/sh\n[ "$1" = get ] || exit 2\ncat > "${bin}/stdin-$(basename "$0")"\nprintf '{"ServerURL":"x","Username":"${user}","Secret":"s3cret"}'\n`;
    await writeFile(join(bin, "docker-credential-cnbp"), script("cnbp"));
    await writeFile(join(bin, "docker-credential-store"), script("cnbp"));
    await chmod(join(bin, "docker-credential-cnbp"), 0o755);
    await chmod(join(bin, "docker-credential-store"), 0o755);
    const env = { DOCKER_CONFIG: configDir, PATH: `${bin}:${process.env.PATH ?? ""}` };

    await writeFile(
      join(configDir, "config.json"),
      JSON.stringify({
        auths: { [registry.host]: {} },
        credHelpers: { [registry.host]: "cnbp" },
        credsStore: "none",
      }),
    );
    await pushAndPull(clientWith(env, home), `${registry.host}/${randomRepo()}:1`, randomImage([10]));
    expect(await readFile(join(bin, "stdin-docker-credential-cnbp"), "utf8")).toBe(registry.host);

    await writeFile(join(configDir, "config.json"), JSON.stringify({ credsStore: "store" }));
    await pushAndPull(clientWith(env, home), `${registry.host}/${randomRepo()}:1`, randomImage([10]));
    expect(await readFile(join(bin, "stdin-docker-credential-store"), "utf8")).toBe(registry.host);

    await writeFile(join(configDir, "config.json"), JSON.stringify({ credsStore: "missing" }));
    const ref = `${registry.host}/${randomRepo()}:1`;
    const err = await errorOf(clientWith(env, home).getManifest(ref));
    expect(err.code).toBe("CNBP_REGISTRY_CREDENTIALS");
    expect(err.message).toBe(
      `docker config ${join(configDir, "config.json")}: credential helper docker-credential-missing for ${registry.host}: not found on PATH`,
    );
    await rm(bin, { recursive: true, force: true });
    await rm(configDir, { recursive: true, force: true });
  });
});

describe("a registry behind a Bearer token server", () => {
  let tokens: TokenServer;
  let proxy: FaultProxy;
  let image: TestImage;
  let repo: string;
  beforeAll(async () => {
    tokens = await startTokenServer();
    proxy = await startProxy(REGISTRY, requireBearer(tokens));
    // the image to pull, pushed straight to the registry behind the proxy
    image = randomImage([20_000]);
    repo = randomRepo();
    const direct = new RegistryClient({ keychain: { resolve: async () => undefined } });
    for (const b of [...image.layers, image.config])
      await direct.pushBlob(`${REGISTRY}/${repo}`, b.descriptor, b.bytes);
    await direct.putManifest(`${REGISTRY}/${repo}:1`, image.manifest, MediaType.ociManifest);
  });
  afterAll(async () => {
    await proxy?.close();
    await tokens?.close();
  });

  it("gets an anonymous pull token once and reuses it", async () => {
    tokens.basic = undefined;
    tokens.requests.length = 0;
    const c = clientWith({}, home);
    const ref = `${proxy.host}/${repo}:1`;
    expect((await c.getManifest(ref)).digest).toBe(image.manifestDigest);
    expect((await c.getBlob(ref, image.config.descriptor)).equals(image.config.bytes)).toBe(true);
    expect((await c.getBlob(ref, image.layers[0]?.descriptor ?? image.config.descriptor)).length).toBe(
      20_000,
    );
    expect(tokens.requests).toEqual([
      {
        method: "GET",
        scopes: [`repository:${repo}:pull`],
        service: "cnbp-test-registry",
        authorization: undefined,
        form: undefined,
      },
    ]);
  });

  it("shares one token between requests sent at the same time", async () => {
    tokens.basic = undefined;
    tokens.requests.length = 0;
    const c = clientWith({}, home);
    const ref = `${proxy.host}/${repo}:1`;
    await Promise.all([c.getManifest(ref), c.getBlob(ref, image.config.descriptor), c.headManifest(ref)]);
    expect(tokens.requests).toHaveLength(1);
  });

  it("sends basic credentials to the token server and asks for pull,push to push; mounts with pull on the source", async () => {
    tokens.basic = basic("robot", "t0ken");
    tokens.requests.length = 0;
    const env = { CNB_REGISTRY_AUTH: JSON.stringify({ [proxy.host]: basic("robot", "t0ken") }) };
    const c = clientWith(env, home);
    const target = randomRepo("copy");
    const ref = `${proxy.host}/${target}:1`;
    const results = [];
    for (const b of [...image.layers, image.config]) {
      results.push(await c.pushBlob(ref, b.descriptor, b.bytes, { mountFrom: [`${proxy.host}/${repo}`] }));
    }
    expect(results.map((r) => r.how)).toEqual(["mounted", "mounted"]);
    await c.putManifest(ref, image.manifest, MediaType.ociManifest);
    expect((await c.getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(tokens.requests.every((r) => r.authorization === basic("robot", "t0ken"))).toBe(true);
    expect(tokens.requests.map((r) => r.scopes)).toEqual([
      [`repository:${target}:pull,push`],
      [`repository:${target}:pull,push`, `repository:${repo}:pull`],
      [`repository:${target}:pull`],
    ]);
  });

  it("says the token server rejected the credentials", async () => {
    tokens.basic = basic("robot", "t0ken");
    const env = { CNB_REGISTRY_AUTH: JSON.stringify({ [proxy.host]: basic("robot", "wrong") }) };
    const ref = `${proxy.host}/${repo}:1`;
    const err = await errorOf(clientWith(env, home).getManifest(ref));
    expect(err.code).toBe("CNBP_REGISTRY_UNAUTHORIZED");
    expect(err.message).toBe(
      `${ref}: registry ${proxy.host} rejected the credentials from CNB_REGISTRY_AUTH; log in with "docker login ${proxy.host}" or set CNB_REGISTRY_AUTH`,
    );
    tokens.basic = undefined;
  });

  it("exchanges an identity token from docker config at the token server (OAuth2 refresh_token)", async () => {
    tokens.refreshToken = "refresh-me";
    tokens.requests.length = 0;
    const configDir = await tempDir("cnbp-docker-config-");
    await writeFile(
      join(configDir, "config.json"),
      JSON.stringify({
        auths: {
          [proxy.host]: { auth: Buffer.from("<token>:").toString("base64"), identitytoken: "refresh-me" },
        },
      }),
    );
    const ref = `${proxy.host}/${repo}:1`;
    expect((await clientWith({ DOCKER_CONFIG: configDir }, home).getManifest(ref)).digest).toBe(
      image.manifestDigest,
    );
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]?.method).toBe("POST");
    expect(Object.fromEntries(tokens.requests[0]?.form ?? [])).toEqual({
      grant_type: "refresh_token",
      refresh_token: "refresh-me",
      client_id: "cnbp",
      service: "cnbp-test-registry",
      scope: `repository:${repo}:pull`,
    });
    tokens.refreshToken = undefined;
    await rm(configDir, { recursive: true, force: true });
  });

  it("sends a Bearer token from CNB_REGISTRY_AUTH as it is, without asking the token server", async () => {
    tokens.requests.length = 0;
    tokens.tokens.set("given-token", [`repository:${repo}:pull`]);
    const env = { CNB_REGISTRY_AUTH: JSON.stringify({ [proxy.host]: "Bearer given-token" }) };
    const ref = `${proxy.host}/${repo}:1`;
    expect((await clientWith(env, home).getManifest(ref)).digest).toBe(image.manifestDigest);
    expect(tokens.requests).toHaveLength(0);
    // the token only allows pulling: pushing is refused as such
    const c = clientWith(env, home);
    expect(await c.checkWriteAccess(ref)).toBe(false);
    const fresh = randomImage([10]).layers[0];
    if (!fresh) throw new Error("no layer");
    const err = await errorOf(c.pushBlob(ref, fresh.descriptor, fresh.bytes));
    expect(err.message).toBe(
      `${ref}: the credentials from CNB_REGISTRY_AUTH may not push to registry ${proxy.host}; log in with "docker login ${proxy.host}" or set CNB_REGISTRY_AUTH`,
    );
  });
});
