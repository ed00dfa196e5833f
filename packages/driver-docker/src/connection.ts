/**
 * Where the Docker Engine is, found as the docker CLI finds it: the driver's `host` option, DOCKER_HOST
 * (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), the current docker context's endpoint, or the default socket.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { DriverError } from "@cnbp/core";
import type { DockerOptions } from "dockerode";
import type { DockerDriverOptions } from "./options.js";

export const DRIVER_NAME = "docker";
export const DEFAULT_HOST = "unix:///var/run/docker.sock";

export interface Endpoint {
  /** The address, e.g. "unix:///var/run/docker.sock" or "tcp://10.0.0.2:2376". */
  readonly host: string;
  /** Where the address came from, for hints: "the host option", "DOCKER_HOST", "docker context x", "the default". */
  readonly from: string;
  /** What dockerode needs to connect. */
  readonly modem: DockerOptions;
}

// every connection field set, so that dockerode's own reading of DOCKER_HOST and DOCKER_CERT_PATH changes none
const NOT_TCP = {
  host: undefined,
  port: undefined,
  protocol: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
};

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves the endpoint; throws CNBP_DRIVER_UNAVAILABLE for an unusable address or missing TLS files. */
export function resolveEndpoint(
  options: DockerDriverOptions = {},
  env: Env = process.env,
  home: string = homedir(),
): Endpoint {
  const configDir = env.DOCKER_CONFIG || join(home, ".docker");
  const context = options.host || env.DOCKER_HOST ? undefined : currentContext(configDir, env);
  const [host, from] = options.host
    ? [options.host, "the host option"]
    : env.DOCKER_HOST
      ? [env.DOCKER_HOST, "DOCKER_HOST"]
      : context
        ? [context.host, `docker context ${JSON.stringify(context.name)}`]
        : [DEFAULT_HOST, "the default"];
  const bad = (why: string) =>
    new DriverError("CNBP_DRIVER_UNAVAILABLE", DRIVER_NAME, "connect", `${host} (from ${from}): ${why}`, {
      hints: [
        "set DOCKER_HOST or the driver's host option to unix:///path/to/docker.sock or tcp://host:port",
      ],
    });
  if (host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length) || "/var/run/docker.sock";
    return { host, from, modem: { ...NOT_TCP, socketPath } };
  }
  if (!host.startsWith("tcp://")) throw bad("only unix:// and tcp:// addresses are supported");
  let url: URL;
  try {
    url = new URL(`http://${host.slice("tcp://".length)}`);
  } catch {
    throw bad("not a tcp://host:port address");
  }
  const envVerify =
    env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== "" && env.DOCKER_TLS_VERIFY !== "0";
  const tls = options.tlsVerify ?? (context ? context.tls !== undefined : envVerify);
  const certDir = options.certPath ?? (context?.tls || env.DOCKER_CERT_PATH || configDir);
  const modem: DockerOptions = {
    ...NOT_TCP,
    socketPath: undefined,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port || (tls ? "2376" : "2375"),
    protocol: tls ? "https" : "http",
  };
  if (tls) {
    const read = (file: string) => {
      try {
        return readFileSync(join(certDir, file));
      } catch (err) {
        throw bad(`TLS is on but ${join(certDir, file)} cannot be read (${(err as Error).message})`);
      }
    };
    Object.assign(modem, { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") });
  }
  return { host, from, modem };
}

interface ContextEndpoint {
  readonly name: string;
  readonly host: string;
  /** The context's TLS directory, when it has TLS material and does not skip verification. */
  readonly tls?: string;
}

/** DOCKER_CONTEXT or config.json's currentContext, read from the contexts store; undefined for "default". */
function currentContext(configDir: string, env: Env): ContextEndpoint | undefined {
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    const config = readJson(join(configDir, "config.json")) as { currentContext?: unknown } | undefined;
    name = typeof config?.currentContext === "string" ? config.currentContext : undefined;
  }
  if (!name || name === "default") return undefined;
  const id = createHash("sha256").update(name).digest("hex");
  const metaFile = join(configDir, "contexts", "meta", id, "meta.json");
  const meta = readJson(metaFile) as
    | { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } }
    | undefined;
  const endpoint = meta?.Endpoints?.docker;
  if (typeof endpoint?.Host !== "string")
    throw new DriverError(
      "CNBP_DRIVER_UNAVAILABLE",
      DRIVER_NAME,
      "connect",
      `docker context ${JSON.stringify(name)} has no docker endpoint in ${metaFile}`,
      { hints: ["run `docker context use default`, or set DOCKER_HOST or the driver's host option"] },
    );
  const tlsDir = join(configDir, "contexts", "tls", id, "docker");
  const hasTls = readJson(join(tlsDir, "ca.pem"), true) !== undefined;
  return {
    name,
    host: endpoint.Host,
    ...(hasTls && endpoint.SkipTLSVerify !== true ? { tls: tlsDir } : {}),
  };
}

/** A JSON file's value, or undefined when it does not exist; `raw` only checks it can be read. */
function readJson(file: string, raw = false): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  if (raw) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DriverError(
      "CNBP_DRIVER_UNAVAILABLE",
      DRIVER_NAME,
      "connect",
      `${file}: not JSON: ${(err as Error).message}`,
    );
  }
}
