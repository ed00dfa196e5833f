import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CnbpError } from "../../errors.js";
import {
  DockerKeychain,
  type HelperRunner,
  normalizeRegistryHost,
  parseRegistryAuthEnv,
} from "./keychain.js";
import { tempDir } from "./test-support/servers.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

let home: string;
let configDir: string;
beforeAll(async () => {
  home = await tempDir("cnbp-home-");
  configDir = await tempDir("cnbp-docker-config-");
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(configDir, { recursive: true, force: true });
});

async function config(value: unknown): Promise<Record<string, string>> {
  await writeFile(join(configDir, "config.json"), JSON.stringify(value));
  return { DOCKER_CONFIG: configDir };
}

async function thrown(p: Promise<unknown>): Promise<CnbpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CnbpError) return err;
    throw err;
  }
  throw new Error("expected a CnbpError");
}

describe("registry hosts", () => {
  it("strips scheme and path and names Docker Hub one way", () => {
    expect(normalizeRegistryHost("https://index.docker.io/v1/")).toBe("docker.io");
    expect(normalizeRegistryHost("registry-1.docker.io")).toBe("docker.io");
    expect(normalizeRegistryHost("index.docker.io")).toBe("docker.io");
    expect(normalizeRegistryHost("http://Registry.Example:5000/v2/")).toBe("registry.example:5000");
    expect(normalizeRegistryHost("[::1]:5000")).toBe("[::1]:5000");
  });
});

describe("CNB_REGISTRY_AUTH", () => {
  it("maps hosts to Authorization values: Basic decoded, Bearer kept, others sent as they are", async () => {
    const env = {
      CNB_REGISTRY_AUTH: JSON.stringify({
        "registry.example:5000": `Basic ${b64("user:pa:ss")}`,
        "https://ghcr.io": "Bearer abc",
        "index.docker.io": "Custom xyz",
      }),
    };
    const k = new DockerKeychain({ env, homeDir: home });
    expect(await k.resolve("registry.example:5000")).toEqual({
      kind: "basic",
      username: "user",
      password: "pa:ss",
      source: "CNB_REGISTRY_AUTH",
    });
    expect(await k.resolve("ghcr.io")).toEqual({ kind: "bearer", token: "abc", source: "CNB_REGISTRY_AUTH" });
    expect(await k.resolve("docker.io")).toEqual({
      kind: "header",
      value: "Custom xyz",
      source: "CNB_REGISTRY_AUTH",
    });
    expect(await k.resolve("quay.io")).toBeUndefined();
  });

  it("says what is wrong with it", () => {
    const message = (text: string) => {
      try {
        parseRegistryAuthEnv(text);
      } catch (err) {
        return (err as CnbpError).message;
      }
      return "no error";
    };
    const expected =
      'expected a JSON object mapping registry hosts to Authorization header values, e.g. {"registry.example:5000":"Basic dXNlcjpwYXNz"}';
    expect(message("[1]")).toBe(`CNB_REGISTRY_AUTH: not a JSON object; ${expected}`);
    expect(message('{"a": 1}')).toBe(`CNB_REGISTRY_AUTH: the value for "a" is not a string; ${expected}`);
    expect(message("{")).toMatch(/^CNB_REGISTRY_AUTH: not valid JSON \(.+\); expected a JSON object/);
  });
});

describe("docker config.json", () => {
  it("reads auths: base64 auth, username/password, identitytoken, registrytoken; Docker Hub's v1 key", async () => {
    const env = await config({
      auths: {
        "https://index.docker.io/v1/": { auth: b64("hub:pw") },
        "http://registry.example:5000/v2/": { username: "u", password: "p" },
        "id.example": { auth: b64("<token>:"), identitytoken: "refresh" },
        "tok.example": { registrytoken: "rt" },
        "empty.example": {},
      },
    });
    const k = new DockerKeychain({ env, homeDir: home });
    const source = `docker config ${join(configDir, "config.json")}`;
    expect(await k.resolve("docker.io")).toEqual({ kind: "basic", username: "hub", password: "pw", source });
    expect(await k.resolve("registry.example:5000")).toEqual({
      kind: "basic",
      username: "u",
      password: "p",
      source,
    });
    expect(await k.resolve("id.example")).toEqual({ kind: "identity", token: "refresh", source });
    expect(await k.resolve("tok.example")).toEqual({ kind: "bearer", token: "rt", source });
    expect(await k.resolve("empty.example")).toBeUndefined();
    expect(await k.resolve("registry.example")).toBeUndefined();
  });

  it("finds ~/.docker/config.json without DOCKER_CONFIG, and nothing when there is none", async () => {
    const otherHome = await tempDir("cnbp-home-");
    expect(await new DockerKeychain({ env: {}, homeDir: otherHome }).resolve("r.example")).toBeUndefined();
    await mkdir(join(otherHome, ".docker"));
    await writeFile(
      join(otherHome, ".docker", "config.json"),
      JSON.stringify({ auths: { "r.example": { auth: b64("a:b") } } }),
    );
    const k = new DockerKeychain({ env: {}, homeDir: otherHome });
    expect(k.configPath).toBe(join(otherHome, ".docker", "config.json"));
    expect(await k.resolve("r.example")).toMatchObject({ kind: "basic", username: "a", password: "b" });
    await rm(otherHome, { recursive: true, force: true });
  });

  it("names the file when it is not JSON", async () => {
    await writeFile(join(configDir, "config.json"), "{nope");
    const err = await thrown(
      new DockerKeychain({ env: { DOCKER_CONFIG: configDir }, homeDir: home }).resolve("x.example"),
    );
    expect(err.code).toBe("CNBP_REGISTRY_CREDENTIALS");
    expect(err.message).toMatch(
      new RegExp(`^docker config ${join(configDir, "config.json")}: not valid JSON \\(`),
    );
  });

  it("asks credential helpers: credHelpers for the host first, then credsStore, then auths", async () => {
    const calls: { program: string; input: string }[] = [];
    const runHelper: HelperRunner = async (program, args, input) => {
      expect(args).toEqual(["get"]);
      calls.push({ program, input });
      if (program === "docker-credential-per-host") {
        return {
          exitCode: 0,
          stdout: JSON.stringify({ ServerURL: input, Username: "ph", Secret: "s1" }),
          stderr: "",
        };
      }
      if (input === "https://index.docker.io/v1/") {
        return {
          exitCode: 0,
          stdout: JSON.stringify({ ServerURL: input, Username: "<token>", Secret: "idt" }),
          stderr: "",
        };
      }
      return { exitCode: 1, stdout: "credentials not found in native keychain", stderr: "" };
    };
    const env = await config({
      credHelpers: { "gcr.example": "per-host" },
      credsStore: "desktop",
      auths: { "fallback.example": { auth: b64("f:b") } },
    });
    const k = new DockerKeychain({ env, homeDir: home, runHelper });
    expect(await k.resolve("gcr.example")).toEqual({
      kind: "basic",
      username: "ph",
      password: "s1",
      source: "docker-credential-per-host",
    });
    expect(await k.resolve("docker.io")).toEqual({
      kind: "identity",
      token: "idt",
      source: "docker-credential-desktop",
    });
    expect(await k.resolve("fallback.example")).toMatchObject({
      kind: "basic",
      username: "f",
      password: "b",
    });
    expect(await k.resolve("none.example")).toBeUndefined();
    expect(calls).toEqual([
      { program: "docker-credential-per-host", input: "gcr.example" },
      { program: "docker-credential-desktop", input: "https://index.docker.io/v1/" },
      { program: "docker-credential-desktop", input: "fallback.example" },
      { program: "docker-credential-desktop", input: "none.example" },
    ]);
    // answers are remembered
    await k.resolve("gcr.example");
    expect(calls).toHaveLength(4);
  });

  it("runs a real helper program and reports one that fails", async () => {
    const bin = await tempDir("cnbp-helpers-");
    await writeFile(join(bin, "docker-credential-broken"), "#!/bin/sh\necho 'keychain locked' >&2\nexit 3\n");
    await chmod(join(bin, "docker-credential-broken"), 0o755);
    const env = { ...(await config({ credsStore: "broken" })), PATH: `${bin}:/usr/bin:/bin` };
    const err = await thrown(new DockerKeychain({ env, homeDir: home }).resolve("r.example"));
    expect(err.code).toBe("CNBP_REGISTRY_CREDENTIALS");
    expect(err.message).toBe(
      `docker config ${join(configDir, "config.json")}: credential helper docker-credential-broken for r.example: exited with code 3: keychain locked`,
    );
    await rm(bin, { recursive: true, force: true });
  });
});
