/**
 * Podman's REST API (libpod) from a `podman system service`. A call on it takes milliseconds where a podman
 * process takes a few hundred (Go start-up and storage set-up on every call), so a build's steps (their output
 * through an attached connection), volumes, copies and image inspects go through it; pulls and Dockerfile
 * builds stay on the CLI.
 *
 * The service is shared by the user's cnbp processes, since starting one takes 0.5-0.9 s: it belongs to none
 * of them and ends by itself after IDLE_SECONDS without a connection. It listens in a directory only the user
 * can enter (SERVICE_DIR_ENV, else `$XDG_RUNTIME_DIR/cnbp`, else `cnbp-<uid>` in the temp dir), under a name
 * made of the podman executable and the settings podman reads from the environment, so processes with other
 * settings never share one. A process that finds no live service there starts one on a socket of its own and
 * then points the shared name at it (a symlink put in place by rename, so the name always leads to a whole
 * service); when two processes do so at once, both are served, and the service the name no longer leads to
 * ends after its idle time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { lstat, mkdir, rename, symlink } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Duplex, Readable } from "node:stream";
import { DriverError } from "@cnbp/core/drivers";
import { DRIVER_NAME, type PodmanCli, type PodmanResult, unavailable } from "./podman.js";

/** Where the shared services listen, when set: tests give each run a directory of its own. */
export const SERVICE_DIR_ENV = "CNBP_PODMAN_SERVICE_DIR";
/** Idle seconds after which a service ends; the next call starts another. */
const IDLE_SECONDS = 120;
const START_TIMEOUT_MS = 20_000;
/** What podman reads from the environment to choose its storage, configuration and registries. */
const SETTINGS_ENV = [
  "CONTAINERS_CONF",
  "CONTAINERS_STORAGE_CONF",
  "CONTAINERS_REGISTRIES_CONF",
  "REGISTRIES_CONFIG_PATH",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_RUNTIME_DIR",
  "HOME",
  "TMPDIR",
];

/** This process's way to the service of each podman: the shared socket, once found or started. */
const sockets = new WeakMap<PodmanCli, Promise<string>>();
/** The services this process started, with their own sockets: stopOwnServices ends them. */
const own = new Map<ChildProcess, string>();

/**
 * `method path` (below `/libpod`, e.g. `/volumes/create`) with `body` as JSON, as a PodmanResult: exitCode 0
 * for a 2xx status, else the status, with the API's error message as stderr.
 */
export function libpod(
  cli: PodmanCli,
  operation: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<PodmanResult> {
  const json = body === undefined ? undefined : JSON.stringify(body);
  return call(cli, operation, {
    method,
    path: `/libpod${path}`,
    ...(json === undefined ? {} : { type: "application/json", body: () => json }),
  });
}

/**
 * Extracts the tar file `tar` into `dir` of the (created) container `container`, keeping the entries' owners,
 * modes and times, creating `dir` when missing. The Docker-compatible endpoint: libpod's own one gives every
 * entry the container user's owner.
 */
export function putArchive(
  cli: PodmanCli,
  operation: string,
  container: string,
  dir: string,
  tar: string,
): Promise<PodmanResult> {
  return call(cli, operation, {
    method: "PUT",
    path: `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(dir)}`,
    type: "application/x-tar",
    body: () => createReadStream(tar),
  });
}

/**
 * A tar stream of `path` in the (created) container `container`, entries relative to its parent, as the
 * Docker-compatible endpoint gives it; a failure (404 when the path is absent) is the result's exit code.
 */
export function getArchive(
  cli: PodmanCli,
  operation: string,
  container: string,
  path: string,
): Promise<PodmanResult | Readable> {
  return call(
    cli,
    operation,
    {
      method: "GET",
      path: `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(path)}`,
    },
    sendForStream,
  );
}

/**
 * The stdout and stderr of the (created) container `container` from its start to its end, as the engine's
 * multiplexed frames (core's `demux` splits them) on the connection the API hands over; an error status as
 * the result. Attached before the start, so that no output is missed.
 */
export function attachOutput(
  cli: PodmanCli,
  operation: string,
  container: string,
): Promise<PodmanResult | Duplex> {
  return call(
    cli,
    operation,
    {
      method: "POST",
      path: `/libpod/containers/${encodeURIComponent(container)}/attach?stream=true&stdout=true&stderr=true`,
    },
    sendForUpgrade,
  );
}

/** `POST /libpod/images/load` of the tar `archive` makes (anew for each attempt): what `podman load` reads. */
export function loadImages(
  cli: PodmanCli,
  operation: string,
  archive: () => Readable,
): Promise<PodmanResult> {
  return call(cli, operation, {
    method: "POST",
    path: "/libpod/images/load",
    type: "application/x-tar",
    body: archive,
  });
}

interface Call {
  readonly method: string;
  /** Below the API's version prefix. */
  readonly path: string;
  readonly type?: string;
  /** Opened for each attempt, so that a retry sends it whole. */
  readonly body?: () => string | Readable;
}

async function call<T = PodmanResult>(
  cli: PodmanCli,
  operation: string,
  c: Call,
  via: (socket: string, c: Call) => Promise<T> = send as (socket: string, c: Call) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await via(await socketOf(cli), c);
    } catch (err) {
      if (err instanceof DriverError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // the service ended (idle time) since it was found: find or start another, once
      if (attempt === 1 && (code === "ECONNREFUSED" || code === "ENOENT")) {
        sockets.delete(cli);
        continue;
      }
      throw unavailable(cli, operation, err);
    }
  }
}

/**
 * Ends the services this process started and removes their sockets (tests; a cnbp process leaves them to
 * their idle time, as other processes may be using them). Never throws.
 */
export function stopOwnServices(): void {
  for (const [child, socket] of own) stop(child, socket);
}

function socketOf(cli: PodmanCli): Promise<string> {
  let socket = sockets.get(cli);
  if (!socket) {
    socket = sharedSocket(cli);
    sockets.set(cli, socket);
    socket.catch(() => sockets.delete(cli));
  }
  return socket;
}

async function sharedSocket(cli: PodmanCli): Promise<string> {
  const dir = await serviceDir(cli);
  const key = createHash("sha256")
    .update(JSON.stringify([cli.bin, ...SETTINGS_ENV.map((name) => process.env[name] ?? null)]))
    .digest("hex")
    .slice(0, 12);
  const shared = join(dir, `podman-${key}.sock`);
  if (await answers(shared)) return shared;
  const socket = join(dir, `podman-${key}-${process.pid}-${randomBytes(4).toString("hex")}.sock`);
  const child = spawn(cli.bin, ["system", "service", `--time=${IDLE_SECONDS}`, `unix://${socket}`], {
    stdio: "ignore",
    // a group of its own, so that stopping it stops a wrapper script's podman too
    detached: true,
    // it outlives this process: in a working directory removed meanwhile, every container's init fails
    cwd: "/",
  });
  child.unref();
  own.set(child, socket);
  child.once("exit", () => own.delete(child));
  try {
    await whenReady(child, socket);
    const link = `${socket}.link`;
    await symlink(basename(socket), link);
    await rename(link, shared);
  } catch (err) {
    stop(child, socket);
    throw err;
  }
  return shared;
}

/** The services' directory, made when missing; refused unless it is the user's own and closed to others. */
async function serviceDir(cli: PodmanCli): Promise<string> {
  const runtime = process.env.XDG_RUNTIME_DIR;
  const dir =
    process.env[SERVICE_DIR_ENV] ||
    (runtime ? join(runtime, "cnbp") : join(tmpdir(), `cnbp-${process.getuid?.() ?? "user"}`));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0)
    throw new DriverError(
      "CNBP_DRIVER_UNAVAILABLE",
      DRIVER_NAME,
      "service",
      `${dir} is not a directory only this user can enter, and the podman API socket would be there`,
      {
        hints: [
          `remove it (cnbp makes it again, mode 0700), or set ${SERVICE_DIR_ENV} to a directory of your own`,
          `the podman executable was "${cli.bin}"`,
        ],
      },
    );
  return dir;
}

/** Whether a service answers `/_ping` on `socket`. */
async function answers(socket: string): Promise<boolean> {
  return send(socket, { method: "GET", path: "/libpod/_ping" }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
}

function stop(child: ChildProcess, socket: string): void {
  own.delete(child);
  const { pid, exitCode, signalCode } = child;
  if (pid !== undefined && exitCode === null && signalCode === null)
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  rmSync(socket, { force: true });
}

/** Resolves once the service answers `/_ping`; rejects when it exits first or does not answer in time. */
async function whenReady(child: ChildProcess, socket: string): Promise<void> {
  const spawned = new Promise<never>((_, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`podman system service exited with ${code}`)));
  });
  spawned.catch(() => {});
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const pinged = await Promise.race([answers(socket), spawned]);
    if (pinged) return;
    if (Date.now() > deadline)
      throw new Error(`podman system service did not answer within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function send(socket: string, c: Call): Promise<PodmanResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method: c.method,
        path: `/v4.0.0${c.path}`,
        headers: c.type === undefined ? {} : { "content-type": c.type },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("error", reject);
        res.once("end", () => {
          const text = Buffer.concat(chunks).toString();
          const status = res.statusCode ?? 500;
          if (status < 300) return resolve({ exitCode: 0, stdout: text, stderr: "" });
          resolve({ exitCode: status, stdout: "", stderr: errorMessage(text) });
        });
      },
    );
    req.once("error", reject);
    const body = c.body?.();
    if (body === undefined || typeof body === "string") req.end(body);
    else {
      body.once("error", (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}

/** Like `send`, but a successful response's body is not read: it is the result, as a stream. */
function sendForStream(socket: string, c: Call): Promise<PodmanResult | Readable> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: c.method, path: `/v4.0.0${c.path}` }, (res) => {
      const status = res.statusCode ?? 500;
      if (status < 300) return resolve(res);
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () =>
        resolve({ exitCode: status, stdout: "", stderr: errorMessage(Buffer.concat(chunks).toString()) }),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

/** Like `send` for an endpoint that upgrades the connection: the connection itself is the result. */
function sendForUpgrade(socket: string, c: Call): Promise<PodmanResult | Duplex> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: socket,
      method: c.method,
      path: `/v4.0.0${c.path}`,
      headers: { Connection: "Upgrade", Upgrade: "tcp" },
    });
    req.once("upgrade", (_res, connection: Duplex, head: Buffer) => {
      if (head.length > 0) connection.unshift(head);
      resolve(connection);
    });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () =>
        resolve({
          exitCode: res.statusCode ?? 500,
          stdout: "",
          stderr: errorMessage(Buffer.concat(chunks).toString()),
        }),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

/** The `message` of the API's error body (`{"cause", "message", "response"}`), else the body itself. */
function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: the body says it as it is
  }
  return text;
}
