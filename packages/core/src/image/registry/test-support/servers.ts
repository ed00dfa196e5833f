/**
 * Real servers for the registry client's tests, all on 127.0.0.1: a docker-registry with htpasswd auth,
 * a proxy in front of a registry that can inject faults or demand Bearer tokens, and a token server.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The registry every test may push to (plain HTTP, no auth). */
export const REGISTRY = "127.0.0.1:5000";

export async function tempDir(prefix = "cnbp-registry-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer at ${url}: ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface AuthRegistry {
  readonly host: string;
  readonly username: string;
  readonly password: string;
  stop(): Promise<void>;
}

/** A docker-registry on a free loopback port that demands `username`/`password` (htpasswd, bcrypt). */
export async function startAuthRegistry(username = "user", password = "pass"): Promise<AuthRegistry> {
  const dir = await tempDir("cnbp-auth-registry-");
  const port = await freePort();
  const htpasswd = execFileSync("htpasswd", ["-Bbn", username, password], { encoding: "utf8" });
  await writeFile(join(dir, "htpasswd"), htpasswd);
  const config = [
    "version: 0.1",
    "log: { level: warn }",
    `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${port}, secret: ${randomBytes(8).toString("hex")} }`,
    `auth: { htpasswd: { realm: cnbp-test, path: ${join(dir, "htpasswd")} } }`,
    "",
  ].join("\n");
  await writeFile(join(dir, "config.yml"), config);
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c) => {
    output += c;
  });
  child.stderr?.on("data", (c) => {
    output += c;
  });
  await waitFor(`http://127.0.0.1:${port}/v2/`, child, () => output);
  return {
    host: `127.0.0.1:${port}`,
    username,
    password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
}

/** What a proxy's hook may do with a request instead of passing it on. */
export type Intercept = (
  req: IncomingMessage,
  res: ServerResponse,
  forward: (options?: ForwardOptions) => void,
) => boolean | Promise<boolean>;

export interface ForwardOptions {
  /** Send only this many bytes of the answer's body, then cut the connection. */
  readonly cutAfter?: number;
  /** Change the answer's body bytes (same length). */
  readonly mangle?: (body: Buffer) => Buffer;
  /** Headers to drop from the request (e.g. authorization the upstream should not see). */
  readonly dropHeaders?: readonly string[];
}

export interface FaultProxy {
  readonly host: string;
  /** Every request received, in order. */
  readonly requests: SeenRequest[];
  intercept: Intercept | undefined;
  close(): Promise<void>;
}

/** An HTTP proxy on a free loopback port in front of `upstream` (host:port); `intercept` may take over. */
export async function startProxy(upstream = REGISTRY, intercept?: Intercept): Promise<FaultProxy> {
  const [upHost, upPort] = upstream.split(":") as [string, string];
  const sockets = new Set<import("node:net").Socket>();
  const proxy: FaultProxy = {
    host: "",
    requests: [],
    intercept,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer(async (req, res) => {
    proxy.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    const forward = (options: ForwardOptions = {}) => {
      const headers = { ...req.headers };
      for (const h of options.dropHeaders ?? []) delete headers[h];
      const up = http.request(
        { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers },
        (upRes) => {
          if (options.mangle) {
            const parts: Buffer[] = [];
            upRes.on("data", (c: Buffer) => parts.push(c));
            upRes.on("end", () => {
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              res.end(options.mangle?.(Buffer.concat(parts)));
            });
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          if (options.cutAfter === undefined) {
            upRes.pipe(res);
            return;
          }
          let left = options.cutAfter;
          if (left <= 0) {
            upRes.destroy();
            res.flushHeaders();
            setTimeout(() => res.socket?.destroy(), 20);
            return;
          }
          upRes.on("data", (c: Buffer) => {
            if (left <= 0) return;
            const piece = c.subarray(0, left);
            left -= piece.length;
            res.write(piece);
            if (left <= 0) {
              upRes.destroy();
              // let the bytes go out, then cut the connection without ending the response
              setTimeout(() => res.socket?.destroy(), 20);
            }
          });
          upRes.on("end", () => {
            if (left > 0) res.end();
          });
        },
      );
      up.on("error", () => res.socket?.destroy());
      req.pipe(up);
    };
    try {
      if (proxy.intercept && (await proxy.intercept(req, res, forward))) return;
    } catch {
      res.socket?.destroy();
      return;
    }
    forward();
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  (proxy as { host: string }).host = `127.0.0.1:${port}`;
  return proxy;
}

/** Answers a request with a status and an optional JSON body, reading (and dropping) its body first. */
export function answer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
  body = "",
): void {
  req.resume();
  req.on("end", () => {
    res.writeHead(status, { "content-length": String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  });
}

export interface TokenRequest {
  readonly method: string;
  readonly scopes: readonly string[];
  readonly service: string | null;
  readonly authorization: string | undefined;
  readonly form: URLSearchParams | undefined;
}

export interface TokenServer {
  readonly realm: string;
  readonly requests: TokenRequest[];
  /** Scopes granted to each token issued. */
  readonly tokens: Map<string, readonly string[]>;
  /** When set, GET needs this Basic header and POST this refresh token; else anyone gets a token. */
  basic: string | undefined;
  refreshToken: string | undefined;
  close(): Promise<void>;
}

/** A token server as in the distribution token spec: GET with service/scope (+ Basic), POST refresh_token. */
export async function startTokenServer(): Promise<TokenServer> {
  const ts: TokenServer = {
    realm: "",
    requests: [],
    tokens: new Map(),
    basic: undefined,
    refreshToken: undefined,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const form = req.method === "POST" ? new URLSearchParams(Buffer.concat(chunks).toString()) : undefined;
      const scopes = form
        ? (form.get("scope") ?? "").split(" ").filter(Boolean)
        : url.searchParams.getAll("scope");
      ts.requests.push({
        method: req.method ?? "",
        scopes,
        service: form ? form.get("service") : url.searchParams.get("service"),
        authorization: req.headers.authorization,
        form,
      });
      const allowed = form
        ? ts.refreshToken === undefined || form.get("refresh_token") === ts.refreshToken
        : ts.basic === undefined || req.headers.authorization === ts.basic;
      if (!allowed) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      const token = randomBytes(12).toString("hex");
      ts.tokens.set(token, scopes);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(form ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  (ts as { realm: string }).realm = `http://127.0.0.1:${port}/token`;
  return ts;
}

/**
 * An intercept that demands a Bearer token from `tokens` with the scope a request needs (pull for GET and
 * HEAD, push otherwise, and pull on a mount's `from`), answering 401 with a challenge pointing at it.
 */
export function requireBearer(tokens: TokenServer, service = "cnbp-test-registry"): Intercept {
  return (req, res, forward) => {
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname);
    const needed: string[] = [];
    if (m) {
      const action = req.method === "GET" || req.method === "HEAD" ? "pull" : "push";
      needed.push(`repository:${m[1]}:${action}`);
      const from = url.searchParams.get("from");
      if (from) needed.push(`repository:${from}:pull`);
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const granted = token ? tokens.tokens.get(token) : undefined;
    const ok =
      granted !== undefined &&
      needed.every((n) => {
        const [, repo, action] = /^repository:(.+):(\w+)$/.exec(n) as RegExpExecArray;
        return granted.some(
          (g) =>
            g.startsWith(`repository:${repo}:`) &&
            g
              .split(":")[2]
              ?.split(",")
              .includes(action as string),
        );
      });
    if (ok) {
      forward({ dropHeaders: ["authorization"] });
      return true;
    }
    const scope = needed.length > 0 ? `,scope="${needed.join(" ")}"` : "";
    const error = granted !== undefined ? ',error="insufficient_scope"' : "";
    answer(
      req,
      res,
      401,
      {
        "www-authenticate": `Bearer realm="${tokens.realm}",service="${service}"${scope}${error}`,
        "content-type": "application/json",
      },
      '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
    );
    return true;
  };
}
