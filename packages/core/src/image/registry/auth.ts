/**
 * Registry authentication: `WWW-Authenticate` challenges (Basic, and Bearer with a token server as in the
 * distribution token spec), tokens cached per host and scope, and the errors a refusal becomes.
 *
 * Nothing is sent before a registry asks, except credentials that are already a header (a Bearer token
 * from CNB_REGISTRY_AUTH or docker's `registrytoken`). Once a host has challenged, later requests carry
 * the answer up front.
 */
import { describeErrorBody, loginHint, RegistryError, type RequestContext } from "./errors.js";
import type { Credential, Keychain } from "./keychain.js";
import type { Transport } from "./transport.js";

export interface Challenge {
  /** Lowercase scheme: "basic", "bearer". */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a `WWW-Authenticate` header: `Bearer realm="https://auth",service="reg",scope="a b"`. */
export function parseChallenges(header: string): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let current: { scheme: string; params: Record<string, string> } | undefined;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i] as string)) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    skip(/[^\s,="]/);
    const word = header.slice(start, i);
    if (!word) {
      i++;
      continue;
    }
    skip(/\s/);
    if (header[i] !== "=") {
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    i++;
    skip(/\s/);
    let value = "";
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === "\\") i++;
        value += header[i] ?? "";
        i++;
      }
      i++;
    } else {
      const from = i;
      skip(/[^\s,]/);
      value = header.slice(from, i);
    }
    if (current) current.params[word.toLowerCase()] = value;
  }
  return out;
}

/** `repository:<repo>:pull` or `repository:<repo>:pull,push`. */
export function repositoryScope(repository: string, access: "pull" | "push"): string {
  return `repository:${repository}:${access === "push" ? "pull,push" : "pull"}`;
}

interface CachedToken {
  readonly value: Promise<string>;
  /** The token, once the server gave it. */
  token?: string;
  expiresAt: number;
}

interface HostState {
  challenge?: Challenge;
  readonly tokens: Map<string, CachedToken>;
}

const TOKEN_MARGIN_MS = 10_000;
const DEFAULT_TOKEN_LIFETIME_S = 60;

export class Authenticator {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly keychain: Keychain,
    private readonly transport: Transport,
    private readonly now: () => number = Date.now,
  ) {}

  credential(ctx: RequestContext): Promise<Credential | undefined> {
    return this.keychain.resolve(ctx.registry);
  }

  /** The Authorization header to send for a request with these scopes, from what is known so far. */
  async header(ctx: RequestContext, scopes: readonly string[]): Promise<string | undefined> {
    const cred = await this.credential(ctx);
    if (cred?.kind === "header") return cred.value;
    if (cred?.kind === "bearer") return `Bearer ${cred.token}`;
    const state = this.hosts.get(ctx.host);
    const challenge = state?.challenge;
    if (!state || !challenge) return undefined;
    if (challenge.scheme === "basic") return cred?.kind === "basic" ? basicHeader(cred) : undefined;
    if (challenge.scheme === "bearer")
      return `Bearer ${await this.token(ctx, state, challenge, scopes, cred)}`;
    return undefined;
  }

  /**
   * Learns from a 401 answer to a request sent with `sent` as its Authorization (if any). Returns whether
   * sending it again (with `header()`) may succeed: credentials not sent yet, or a token the registry no
   * longer takes (dropped from the cache).
   */
  async onUnauthorized(
    ctx: RequestContext,
    scopes: readonly string[],
    res: Response,
    sent: string | undefined,
  ): Promise<boolean> {
    const header = res.headers.get("www-authenticate");
    if (!header) return false;
    const challenges = parseChallenges(header);
    const challenge =
      challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (!challenge) return false;
    const cred = await this.credential(ctx);
    let state = this.hosts.get(ctx.host);
    if (!state) {
      state = { tokens: new Map() };
      this.hosts.set(ctx.host, state);
    }
    state.challenge = challenge;
    if (cred?.kind === "header" || cred?.kind === "bearer") return false;
    if (challenge.scheme === "bearer") {
      const key = tokenKey(challenge, scopes);
      const cached = state.tokens.get(key);
      if (cached?.token !== undefined && sent === `Bearer ${cached.token}`) state.tokens.delete(key);
      return true;
    }
    return cred?.kind === "basic" && sent !== basicHeader(cred);
  }

  /** The error for a final 401/403 from the registry itself. */
  async refusal(ctx: RequestContext, status: number): Promise<RegistryError> {
    const cred = await this.credential(ctx);
    const challenge = this.hosts.get(ctx.host)?.challenge;
    if (!cred) return requiresAuth(ctx, status);
    const rejected =
      status === 401 &&
      challenge?.params.error !== "insufficient_scope" &&
      (cred.kind === "header" ||
        cred.kind === "bearer" ||
        (cred.kind === "basic" && challenge?.scheme === "basic"));
    return rejected ? rejectedCredentials(ctx, cred, status) : deniedAccess(ctx, cred, status);
  }

  private token(
    ctx: RequestContext,
    state: HostState,
    challenge: Challenge,
    scopes: readonly string[],
    cred: Credential | undefined,
  ): Promise<string> {
    const key = tokenKey(challenge, scopes);
    const cached = state.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.value;
    const entry: CachedToken = {
      value: this.fetchToken(ctx, challenge, scopes, cred).then(({ token, expiresIn }) => {
        entry.expiresAt = this.now() + Math.max(0, expiresIn * 1000 - TOKEN_MARGIN_MS);
        entry.token = token;
        return token;
      }),
      expiresAt: Number.POSITIVE_INFINITY,
    };
    state.tokens.set(key, entry);
    entry.value.catch(() => {
      if (state.tokens.get(key) === entry) state.tokens.delete(key);
    });
    return entry.value;
  }

  private async fetchToken(
    ctx: RequestContext,
    challenge: Challenge,
    scopes: readonly string[],
    cred: Credential | undefined,
  ): Promise<{ token: string; expiresIn: number }> {
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? "");
    } catch {
      throw new RegistryError(
        "CNBP_REGISTRY_RESPONSE",
        `${ctx.image}: registry ${ctx.registry} asked for a Bearer token without a valid realm (${JSON.stringify(realm ?? "")})`,
        { registry: ctx.registry, image: ctx.image },
      );
    }
    this.transport.checkUrl(url, ctx);
    const service = challenge.params.service;
    let res: Response;
    if (cred?.kind === "identity") {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: cred.token,
        client_id: "cnbp",
      });
      if (service) form.set("service", service);
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      res = await this.transport.send(
        {
          method: "POST",
          url,
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
          body: form.toString(),
          idempotent: true,
        },
        ctx,
      );
    } else {
      if (service) url.searchParams.set("service", service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      const headers: Record<string, string> = { accept: "application/json" };
      if (cred?.kind === "basic") headers.authorization = basicHeader(cred);
      res = await this.transport.send({ method: "GET", url, headers, idempotent: true }, ctx);
    }
    const body = await res.text().catch(() => "");
    if (res.status === 401 || res.status === 403) {
      throw cred ? rejectedCredentials(ctx, cred, res.status) : requiresAuth(ctx, res.status);
    }
    if (!res.ok) {
      throw new RegistryError(
        "CNBP_REGISTRY_RESPONSE",
        `${ctx.image}: token server ${url.origin} of registry ${ctx.registry} answered ${res.status} ${res.statusText}${body ? `: ${describeErrorBody(body)}` : ""}`,
        { registry: ctx.registry, image: ctx.image, status: res.status },
      );
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      parsed = {};
    }
    const token =
      typeof parsed.token === "string" && parsed.token
        ? parsed.token
        : typeof parsed.access_token === "string"
          ? parsed.access_token
          : "";
    if (!token) {
      throw new RegistryError(
        "CNBP_REGISTRY_RESPONSE",
        `${ctx.image}: token server ${url.origin} of registry ${ctx.registry} answered without a token`,
        { registry: ctx.registry, image: ctx.image },
      );
    }
    const expiresIn =
      typeof parsed.expires_in === "number" && parsed.expires_in > 0
        ? parsed.expires_in
        : DEFAULT_TOKEN_LIFETIME_S;
    return { token, expiresIn };
  }
}

function basicHeader(cred: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
}

function tokenKey(challenge: Challenge, scopes: readonly string[]): string {
  return `${challenge.params.realm ?? ""} ${challenge.params.service ?? ""} ${[...scopes].sort().join(" ")}`;
}

function verb(access: "pull" | "push"): string {
  return access === "push" ? "push to" : "pull from";
}

export function requiresAuth(ctx: RequestContext, status: number): RegistryError {
  return new RegistryError(
    "CNBP_REGISTRY_UNAUTHORIZED",
    `${ctx.image}: registry ${ctx.registry} requires authentication to ${ctx.access}; ${loginHint(ctx.registry)}`,
    { registry: ctx.registry, image: ctx.image, status },
  );
}

export function rejectedCredentials(ctx: RequestContext, cred: Credential, status: number): RegistryError {
  return new RegistryError(
    "CNBP_REGISTRY_UNAUTHORIZED",
    `${ctx.image}: registry ${ctx.registry} rejected the credentials from ${cred.source}; ${loginHint(ctx.registry)}`,
    { registry: ctx.registry, image: ctx.image, status },
  );
}

export function deniedAccess(ctx: RequestContext, cred: Credential, status: number): RegistryError {
  return new RegistryError(
    "CNBP_REGISTRY_UNAUTHORIZED",
    `${ctx.image}: the credentials from ${cred.source} may not ${verb(ctx.access)} registry ${ctx.registry}; ${loginHint(ctx.registry)}`,
    { registry: ctx.registry, image: ctx.image, status },
  );
}
