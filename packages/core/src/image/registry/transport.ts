/**
 * HTTP to registries over Node's global fetch: which scheme a host gets, retries with exponential backoff
 * for idempotent requests, and fetch's bare `TypeError: fetch failed` turned into a message that says
 * which registry could not be reached and why.
 *
 * HTTPS always, except for loopback hosts (localhost, 127.0.0.0/8, [::1]) and hosts the caller lists as
 * insecure: those are probed once with HTTPS and use plain HTTP when no TLS server answers (as Docker does).
 */
import { setTimeout as delay } from "node:timers/promises";
import { RegistryError, type RequestContext } from "./errors.js";

export type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** Defaults to the global fetch (undici). */
  readonly fetch?: Fetch;
  /** Hosts (`host[:port]`) that may be reached over plain HTTP besides loopback ones. */
  readonly insecureRegistries?: readonly string[];
  /** Retries after the first attempt, for idempotent requests and upload sessions. Default 3. */
  readonly retries?: number;
  /** First backoff delay; doubles each retry, with jitter. Default 250 ms. */
  readonly retryDelayMs?: number;
  /** Longest backoff delay, also the most a Retry-After header may make us wait. Default 10 s. */
  readonly maxRetryDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly userAgent?: string;
  /** How long the HTTPS probe of a loopback or insecure host may take. Default 5 s. */
  readonly probeTimeoutMs?: number;
}

export type RequestBody = Uint8Array | string | AsyncIterable<Uint8Array>;

export interface HttpRequest {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Safe to send again on 5xx, 429 or a broken connection (and the body, if any, can be replayed). */
  readonly idempotent: boolean;
  readonly signal?: AbortSignal;
}

const LOOPBACK_NAMES = new Set(["localhost", "[::1]", "::1"]);

/** The host part of `host[:port]` (IPv6 keeps its brackets). */
export function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host);
  return (m?.[1] ?? host).toLowerCase();
}

export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  if (LOOPBACK_NAMES.has(name) || name.endsWith(".localhost")) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Network error codes worth another try. */
const RETRIABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The innermost error code of a fetch failure (`TypeError: fetch failed` hides it in `cause`). */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

export function isRetriableNetworkError(err: unknown): boolean {
  if (isAbort(err)) return false;
  const code = networkErrorCode(err);
  if (code !== undefined) return RETRIABLE_CODES.has(code);
  // undici's "terminated" (body cut short) and "other side closed" carry no code on some paths
  return err instanceof TypeError && /terminated|other side closed|socket/i.test(err.message);
}

/** A short human reason for a network failure: "connection refused", "TLS certificate not trusted: ...". */
export function describeNetworkError(err: unknown): string {
  const code = networkErrorCode(err);
  const inner = innermostMessage(err);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
      return "connection closed by the other side";
    case "ENOTFOUND":
      return "host not found";
    case "EAI_AGAIN":
      return "DNS lookup failed";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "no answer in time";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "network unreachable";
  }
  if (code?.startsWith("ERR_SSL_") || code === "EPROTO") {
    return `TLS handshake failed (${inner}); if the registry serves plain HTTP, list it as insecure`;
  }
  if (code && (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || code === "ERR_TLS_CERT_ALTNAME_INVALID")) {
    return `TLS certificate not trusted: ${inner}`;
  }
  return code ? `${inner} (${code})` : inner;
}

function innermostMessage(err: unknown): string {
  let e: unknown = err;
  let message = String(err);
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === "string" && m) message = m;
    e = (e as { cause?: unknown }).cause;
  }
  return message;
}

function isCertificateError(err: unknown): boolean {
  const code = networkErrorCode(err) ?? "";
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code);
}

export class Transport {
  readonly retries: number;
  private readonly fetchFn: Fetch;
  private readonly insecure: ReadonlySet<string>;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly userAgent: string;
  private readonly probeTimeoutMs: number;
  private readonly schemes = new Map<string, Promise<"https" | "http">>();

  constructor(options: TransportOptions = {}) {
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.insecure = new Set((options.insecureRegistries ?? []).map((h) => h.toLowerCase()));
    this.retries = Math.max(0, options.retries ?? 3);
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.userAgent = options.userAgent ?? "cnbp";
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  }

  /** Whether plain HTTP may be used for `host` (loopback, or listed as insecure). */
  allowsPlainHttp(host: string): boolean {
    const h = host.toLowerCase();
    return isLoopbackHost(h) || this.insecure.has(h) || this.insecure.has(hostName(h));
  }

  /** The scheme to reach `host`'s registry API with (probed once per host when plain HTTP is allowed). */
  scheme(host: string): Promise<"https" | "http"> {
    if (!this.allowsPlainHttp(host)) return Promise.resolve("https");
    let known = this.schemes.get(host);
    if (!known) {
      known = this.probe(host);
      this.schemes.set(host, known);
    }
    return known;
  }

  async url(host: string, path: string): Promise<URL> {
    return new URL(`${await this.scheme(host)}://${host}${path}`);
  }

  /** Refuses a URL a registry pointed us to (upload location, token realm) that would go out in clear. */
  checkUrl(url: URL, ctx: RequestContext): void {
    if (url.protocol === "https:") return;
    if (url.protocol === "http:" && this.allowsPlainHttp(url.host)) return;
    throw new RegistryError(
      "CNBP_REGISTRY_INSECURE",
      `${ctx.image}: registry ${ctx.registry} sent us to ${url.origin}, which is not HTTPS; list ${url.host} as an insecure registry if that is intended`,
      { registry: ctx.registry, image: ctx.image },
    );
  }

  /**
   * Sends a request. Idempotent ones are retried with backoff on 5xx, 429 and broken connections; the last
   * answer is returned whatever its status. Network failures become CNBP_REGISTRY_UNREACHABLE.
   */
  async send(req: HttpRequest, ctx: RequestContext): Promise<Response> {
    const attempts = req.idempotent ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFn(req.url, {
          method: req.method,
          headers: { "user-agent": this.userAgent, ...req.headers },
          ...(req.body !== undefined ? { body: req.body, duplex: "half" } : {}),
          redirect: "follow",
          ...(req.signal ? { signal: req.signal } : {}),
        } as RequestInit);
      } catch (err) {
        if (isAbort(err)) throw err;
        if (attempt < attempts && isRetriableNetworkError(err)) {
          await this.backoff(attempt);
          continue;
        }
        throw this.unreachable(ctx, err, attempt);
      }
      if (attempt < attempts && (res.status >= 500 || res.status === 429)) {
        await res.body?.cancel().catch(() => {});
        await this.backoff(attempt, res.headers.get("retry-after"));
        continue;
      }
      return res;
    }
  }

  /** Waits before retry number `attempt` (1-based): base * 2^(attempt-1) with jitter, or Retry-After. */
  async backoff(attempt: number, retryAfter?: string | null): Promise<void> {
    let ms = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** (attempt - 1));
    ms = ms / 2 + Math.random() * (ms / 2);
    const after = retryAfter ? parseRetryAfter(retryAfter) : undefined;
    if (after !== undefined) ms = Math.min(this.maxRetryDelayMs, Math.max(ms, after));
    await this.sleep(Math.round(ms));
  }

  unreachable(ctx: RequestContext, err: unknown, attempts: number): RegistryError {
    const tries = attempts > 1 ? ` (tried ${attempts} times)` : "";
    return new RegistryError(
      "CNBP_REGISTRY_UNREACHABLE",
      `${ctx.image}: cannot reach registry ${ctx.registry}: ${describeNetworkError(err)}${tries}`,
      { registry: ctx.registry, image: ctx.image, cause: err },
    );
  }

  private async probe(host: string): Promise<"https" | "http"> {
    try {
      const res = await this.fetchFn(new URL(`https://${host}/v2/`), {
        method: "GET",
        headers: { "user-agent": this.userAgent },
        redirect: "manual",
        signal: AbortSignal.timeout(this.probeTimeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      return "https";
    } catch (err) {
      // a TLS server with a certificate we do not trust is still a TLS server: say so later, over HTTPS
      return isCertificateError(err) ? "https" : "http";
    }
  }
}

function parseRetryAfter(value: string): number | undefined {
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
