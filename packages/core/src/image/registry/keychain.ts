/**
 * Where registry credentials come from, in the lifecycle's order (platform spec section 7):
 * 1. CNB_REGISTRY_AUTH, a JSON object mapping a registry host to a full Authorization header value;
 * 2. docker's config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): `credHelpers` for
 *    the host, then `credsStore`, then `auths` (base64 `auth`, or `username`/`password`, `identitytoken`,
 *    `registrytoken`); helpers are `docker-credential-<name> get`, given the server URL on stdin;
 * 3. anonymous.
 * Docker Hub's key in config.json is `https://index.docker.io/v1/`; `docker.io`, `index.docker.io` and
 * `registry-1.docker.io` all name it.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./errors.js";

export type Credential =
  /** Username and password, sent as Basic to the registry or to its token server. */
  | { readonly kind: "basic"; readonly username: string; readonly password: string; readonly source: string }
  /** A registry token, sent as `Bearer <token>` as it is. */
  | { readonly kind: "bearer"; readonly token: string; readonly source: string }
  /** An OAuth2 refresh token (docker's `identitytoken`), exchanged at the token server. */
  | { readonly kind: "identity"; readonly token: string; readonly source: string }
  /** An Authorization header value of another scheme, sent as it is. */
  | { readonly kind: "header"; readonly value: string; readonly source: string };

export interface Keychain {
  /** Credentials for a registry (as named in references: "docker.io", "127.0.0.1:5000"), if any. */
  resolve(registry: string): Promise<Credential | undefined>;
}

export interface HelperResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a credential helper; rejects with an error whose `code` is "ENOENT" when it is not installed. */
export type HelperRunner = (
  program: string,
  args: readonly string[],
  input: string,
  env: Readonly<Record<string, string | undefined>>,
) => Promise<HelperResult>;

export interface DockerKeychainOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homeDir?: string;
  readonly runHelper?: HelperRunner;
}

export const DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/";
const DOCKER_HUB_NAMES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A registry host as config keys are compared: no scheme, no path, lowercase, Docker Hub as "docker.io". */
export function normalizeRegistryHost(key: string): string {
  let host = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = host.indexOf("/");
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  return DOCKER_HUB_NAMES.has(host) ? "docker.io" : host;
}

/** Turns an Authorization header value into a credential: Basic is decoded, Bearer kept as a token. */
export function credentialFromHeader(value: string, source: string): Credential {
  const m = /^(\S+)\s+(.+)$/.exec(value.trim());
  const scheme = m?.[1]?.toLowerCase();
  if (m && scheme === "basic") {
    const decoded = Buffer.from(m[2] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
  }
  if (m && scheme === "bearer") return { kind: "bearer", token: m[2] as string, source };
  return { kind: "header", value: value.trim(), source };
}

/** Parses CNB_REGISTRY_AUTH into normalised host -> credential. */
export function parseRegistryAuthEnv(text: string): Map<string, Credential> {
  const fail = (why: string): never => {
    throw new RegistryError(
      "CNBP_REGISTRY_CREDENTIALS",
      `CNB_REGISTRY_AUTH: ${why}; expected a JSON object mapping registry hosts to Authorization header values, e.g. {"registry.example:5000":"Basic dXNlcjpwYXNz"}`,
      { registry: "" },
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return fail("not a JSON object");
  const out = new Map<string, Credential>();
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== "string" || value.trim() === "") fail(`the value for "${key}" is not a string`);
    out.set(normalizeRegistryHost(key), credentialFromHeader(value as string, "CNB_REGISTRY_AUTH"));
  }
  return out;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * The default keychain: CNB_REGISTRY_AUTH, then docker's config.json and its credential helpers.
 * Ambient state (env, home directory, how helpers run) comes in through the constructor.
 */
export class DockerKeychain implements Keychain {
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly homeDir: string;
  private readonly runHelper: HelperRunner;
  private envAuth: Map<string, Credential> | undefined;
  private config: Promise<{ path: string; config: DockerConfig } | undefined> | undefined;
  private readonly resolved = new Map<string, Promise<Credential | undefined>>();

  constructor(options: DockerKeychainOptions = {}) {
    this.env = options.env ?? process.env;
    this.homeDir = options.homeDir ?? homedir();
    this.runHelper = options.runHelper ?? runCredentialHelper;
  }

  /** The docker config file read: `$DOCKER_CONFIG/config.json` or `<home>/.docker/config.json`. */
  get configPath(): string {
    const dir = this.env.DOCKER_CONFIG;
    return dir ? join(dir, "config.json") : join(this.homeDir, ".docker", "config.json");
  }

  resolve(registry: string): Promise<Credential | undefined> {
    const host = normalizeRegistryHost(registry);
    let found = this.resolved.get(host);
    if (!found) {
      found = this.lookup(host);
      this.resolved.set(host, found);
      // a failure (helper missing...) is not remembered: the next call tries again
      found.catch(() => this.resolved.delete(host));
    }
    return found;
  }

  private async lookup(host: string): Promise<Credential | undefined> {
    const fromEnv = this.fromEnv(host);
    if (fromEnv) return fromEnv;
    const loaded = await this.loadConfig();
    if (!loaded) return undefined;
    const { path, config } = loaded;
    const helper = pick(config.credHelpers, host);
    if (helper) {
      const cred = await this.fromHelper(helper, host, path);
      if (cred) return cred;
    } else if (config.credsStore) {
      const cred = await this.fromHelper(config.credsStore, host, path);
      if (cred) return cred;
    }
    const entry = pick(config.auths, host);
    return entry ? fromAuthEntry(entry, `docker config ${path}`) : undefined;
  }

  private fromEnv(host: string): Credential | undefined {
    const text = this.env.CNB_REGISTRY_AUTH;
    if (!text || text.trim() === "") return undefined;
    this.envAuth ??= parseRegistryAuthEnv(text);
    return this.envAuth.get(host);
  }

  private loadConfig(): Promise<{ path: string; config: DockerConfig } | undefined> {
    this.config ??= (async () => {
      const path = this.configPath;
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new RegistryError(
          "CNBP_REGISTRY_CREDENTIALS",
          `docker config ${path}: cannot read it: ${(err as Error).message}`,
          { registry: "", cause: err },
        );
      }
      let config: unknown;
      try {
        config = JSON.parse(text);
      } catch (err) {
        throw new RegistryError(
          "CNBP_REGISTRY_CREDENTIALS",
          `docker config ${path}: not valid JSON (${(err as Error).message})`,
          { registry: "", cause: err },
        );
      }
      if (!config || typeof config !== "object" || Array.isArray(config)) {
        throw new RegistryError("CNBP_REGISTRY_CREDENTIALS", `docker config ${path}: not a JSON object`, {
          registry: "",
        });
      }
      return { path, config: config as DockerConfig };
    })();
    return this.config;
  }

  private async fromHelper(name: string, host: string, configPath: string): Promise<Credential | undefined> {
    const program = `docker-credential-${name}`;
    const serverUrl = host === "docker.io" ? DOCKER_HUB_CONFIG_KEY : host;
    const fail = (why: string, cause?: unknown): never => {
      throw new RegistryError(
        "CNBP_REGISTRY_CREDENTIALS",
        `docker config ${configPath}: credential helper ${program} for ${host}: ${why}`,
        { registry: host, cause },
      );
    };
    let result: HelperResult;
    try {
      result = await this.runHelper(program, ["get"], serverUrl, this.env);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ENOENT"
        ? fail("not found on PATH")
        : fail((err as Error).message, err);
    }
    if (result.exitCode !== 0) {
      const said = `${result.stdout} ${result.stderr}`.trim();
      if (/credentials not found/i.test(said)) return undefined;
      return fail(`exited with code ${result.exitCode}${said ? `: ${said}` : ""}`);
    }
    let out: { Username?: unknown; Secret?: unknown };
    try {
      out = JSON.parse(result.stdout) as typeof out;
    } catch {
      return fail("printed something that is not JSON");
    }
    const username = typeof out.Username === "string" ? out.Username : "";
    const secret = typeof out.Secret === "string" ? out.Secret : "";
    if (!secret) return undefined;
    const source = program;
    return username === "<token>"
      ? { kind: "identity", token: secret, source }
      : { kind: "basic", username, password: secret, source };
  }
}

/** The value for `host` in a config map: the exact key first, else any key that normalises to it. */
function pick<T>(map: Record<string, T> | undefined, host: string): T | undefined {
  if (!map || typeof map !== "object") return undefined;
  if (host === "docker.io" && map[DOCKER_HUB_CONFIG_KEY] !== undefined) return map[DOCKER_HUB_CONFIG_KEY];
  if (map[host] !== undefined) return map[host];
  for (const [key, value] of Object.entries(map)) {
    if (normalizeRegistryHost(key) === host) return value;
  }
  return undefined;
}

function fromAuthEntry(entry: AuthEntry, source: string): Credential | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  if (typeof entry.identitytoken === "string" && entry.identitytoken) {
    return { kind: "identity", token: entry.identitytoken, source };
  }
  if (typeof entry.registrytoken === "string" && entry.registrytoken) {
    return { kind: "bearer", token: entry.registrytoken, source };
  }
  if (typeof entry.auth === "string" && entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
  }
  if (typeof entry.username === "string" && entry.username && typeof entry.password === "string") {
    return { kind: "basic", username: entry.username, password: entry.password, source };
  }
  return undefined;
}

/** Runs `program args...` with `input` on stdin, through node:child_process. */
export const runCredentialHelper: HelperRunner = (program, args, input, env) =>
  new Promise((resolve, reject) => {
    const child = spawn(program, [...args], {
      env: env as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 60_000,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => stdout.push(c));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    child.on("error", reject);
    child.stdin.on("error", () => {}); // a helper that exits without reading stdin
    child.on("close", (code, signal) =>
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString("utf8").trim(),
        stderr: Buffer.concat(stderr).toString("utf8").trim(),
      }),
    );
    child.stdin.end(input);
  });
