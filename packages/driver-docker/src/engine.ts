/** The Docker Engine API client and how its failures become DriverErrors that say which operation failed. */
import { cancelledError, DriverError, type DriverErrorCode } from "@cnbp/core/drivers";
import Docker from "dockerode";
import { DRIVER_NAME, type Endpoint } from "./connection.js";

export interface Engine {
  readonly docker: Docker;
  readonly endpoint: Endpoint;
}

export function connect(endpoint: Endpoint): Engine {
  try {
    return { docker: new Docker(endpoint.modem), endpoint };
  } catch (err) {
    throw unavailable(endpoint, "connect", err);
  }
}

/** The HTTP status of a failed API call, or undefined when the call never got an answer. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The engine's own message for a failed call (dockerode wraps it in "(HTTP code 404) ... - <message>"). */
export function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | undefined)?.json;
  if (typeof json?.message === "string") return json.message.trim();
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

const CONNECTION_CODES = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "EACCES",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
]);

/** Whether `err` says the engine could not be reached at all (no HTTP answer). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return statusOf(err) === undefined && typeof code === "string" && CONNECTION_CODES.has(code);
}

/** A failed API call as a DriverError: CNBP_DRIVER_UNAVAILABLE when the engine did not answer, else `code`. */
export function engineError(
  engine: Engine,
  operation: string,
  err: unknown,
  code: DriverErrorCode = "CNBP_DRIVER_FAILED",
): DriverError {
  if (err instanceof DriverError) return err;
  if (isConnectionError(err)) return unavailable(engine.endpoint, operation, err);
  return new DriverError(code, DRIVER_NAME, operation, messageOf(err), { cause: err });
}

export function unavailable(endpoint: Endpoint, operation: string, cause: unknown): DriverError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new DriverError(
    "CNBP_DRIVER_UNAVAILABLE",
    DRIVER_NAME,
    operation,
    `cannot reach the Docker Engine at ${endpoint.host}: ${why}`,
    {
      hints: [
        `tried ${endpoint.host} (from ${endpoint.from}); start the Docker daemon, or point DOCKER_HOST or the driver's "host" option at it`,
      ],
      cause,
    },
  );
}

export const cancelled = (operation: string): DriverError => cancelledError(DRIVER_NAME, operation);

/** One message of the engine's JSON progress streams (pull, load, import, build). */
export interface JsonMessage {
  readonly stream?: string;
  readonly status?: string;
  readonly progress?: string;
  readonly id?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly aux?: { readonly ID?: string };
}

/** Reads a JSON-lines progress stream to its end, calling `onMessage` for each message in order. */
export function followJson(
  stream: NodeJS.ReadableStream,
  onMessage: (m: JsonMessage) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = "";
    const take = (line: string) => {
      const text = line.trim();
      if (text === "") return;
      try {
        onMessage(JSON.parse(text) as JsonMessage);
      } catch {
        onMessage({ stream: `${text}\n` });
      }
    };
    stream.on("data", (chunk: Buffer | string) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) take(line);
    });
    const finish = () => {
      take(pending);
      pending = "";
      resolve();
    };
    stream.once("end", finish);
    stream.once("close", finish);
    stream.once("error", reject);
  });
}

/** The first error a progress stream reported, or undefined. */
export const errorOf = (m: JsonMessage): string | undefined => m.errorDetail?.message ?? m.error;
