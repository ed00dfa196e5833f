/**
 * Podman's REST API (libpod) from a `podman system service` this process starts on first use and stops on
 * the driver's dispose. A call on it takes milliseconds where a podman process takes a few hundred (Go start-up
 * and storage set-up on every call), so a workspace's bookkeeping (volumes, the helper, removals) goes
 * through it; steps and copies, which stream, stay on the CLI.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { type PodmanCli, type PodmanResult, unavailable } from "./podman.js";

/**
 * Idle seconds after which the service ends by itself: it then starts again on the next call; this bounds how
 * long it outlives a process killed before its exit hook ran.
 */
const IDLE_SECONDS = 30;
const START_TIMEOUT_MS = 20_000;

interface Service {
  readonly child: ChildProcess;
  readonly socket: string;
  readonly ready: Promise<void>;
}

const services = new WeakMap<PodmanCli, Service>();
/** Every running service of this process, stopped when it exits (one listener for them all). */
const live = new Map<Service, PodmanCli>();
process.once("exit", () => {
  for (const [service, cli] of live) stop(cli, service);
});

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

async function call(cli: PodmanCli, operation: string, c: Call): Promise<PodmanResult> {
  for (let attempt = 1; ; attempt++) {
    const service = started(cli);
    try {
      await service.ready;
      return await send(service.socket, c);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // the service ended (idle timeout) before the request reached it: start another, once
      if (attempt === 1 && (code === "ECONNREFUSED" || code === "ENOENT")) {
        stop(cli, service);
        continue;
      }
      throw unavailable(cli, operation, err);
    }
  }
}

/** Stops this process's service for `cli`, if any. Idempotent; never throws. */
export function stopService(cli: PodmanCli): void {
  const service = services.get(cli);
  if (service) stop(cli, service);
}

function started(cli: PodmanCli): Service {
  const running = services.get(cli);
  if (running && running.child.exitCode === null && running.child.signalCode === null) return running;
  if (running) stop(cli, running);
  // podman makes the socket owner-only and removes it when it ends
  const socket = join(tmpdir(), `cnbp-podman-api-${process.pid}-${randomBytes(4).toString("hex")}.sock`);
  const child = spawn(cli.bin, ["system", "service", `--time=${IDLE_SECONDS}`, `unix://${socket}`], {
    stdio: "ignore",
    // a group of its own, so that stopping it stops a wrapper script's podman too
    detached: true,
  });
  child.unref();
  child.once("exit", () => live.delete(service));
  const service: Service = { child, socket, ready: whenReady(child, socket) };
  service.ready.catch(() => stop(cli, service));
  services.set(cli, service);
  live.set(service, cli);
  return service;
}

function stop(cli: PodmanCli, service: Service): void {
  if (services.get(cli) === service) services.delete(cli);
  live.delete(service);
  const { pid, exitCode, signalCode } = service.child;
  if (pid !== undefined && exitCode === null && signalCode === null)
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  rmSync(service.socket, { force: true });
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
    const pinged = await Promise.race([
      send(socket, { method: "GET", path: "/libpod/_ping" }).then(
        (r) => r.exitCode === 0,
        () => false,
      ),
      spawned,
    ]);
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
