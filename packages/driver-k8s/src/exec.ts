/**
 * `pods/<name>/exec` over a WebSocket, as `kubectl exec` and `kubectl cp` use it: each message is a channel byte
 * (0 stdin, 1 stdout, 2 stderr, 3 status, 255 close) and data. stdin is sent with backpressure and closed with
 * the v5 protocol's close message (Kubernetes 1.29+); without it the end of stdin cannot be told.
 * Written on `ws` directly: client-node's own socket (isomorphic-ws) does not resolve to a constructor under
 * every bundler, and it sends stdin without waiting for the socket to drain.
 */
import type { RequestOptions } from "node:https";
import type { Readable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import WebSocket from "ws";

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly stdin?: Readable;
  readonly stdout: (chunk: Buffer) => void;
  readonly stderr: (chunk: Buffer) => void;
}

/** Runs the command and resolves to its exit code; rejects when the API server refuses or the socket fails. */
export async function podExec(kc: KubeConfig, req: ExecRequest): Promise<number> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const query = new URLSearchParams({
    container: req.container,
    stdout: "true",
    stderr: "true",
    stdin: req.stdin ? "true" : "false",
    tty: "false",
  });
  for (const c of req.command) query.append("command", c);
  const url = `${cluster.server.replace(/^http/, "ws")}/api/v1/namespaces/${req.namespace}/pods/${req.pod}/exec?${query}`;
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const ws = new WebSocket(url, PROTOCOLS, opts as WebSocket.ClientOptions);
  return new Promise<number>((resolve, reject) => {
    let exitCode: number | undefined;
    ws.on("unexpected-response", (_req, res) => {
      const body: Buffer[] = [];
      res.on("data", (c: Buffer) => body.push(c));
      res.on("end", () =>
        reject(new Error(`exec refused (${res.statusCode}): ${Buffer.concat(body).toString().trim()}`)),
      );
    });
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      const channel = data[0];
      const rest = data.subarray(1);
      if (channel === 1) req.stdout(rest);
      else if (channel === 2) req.stderr(rest);
      else if (channel === 3) exitCode = exitCodeOf(rest.toString());
    });
    ws.on("close", () => {
      if (exitCode === undefined) reject(new Error("exec ended without a status"));
      else resolve(exitCode);
    });
    ws.on("open", () => {
      if (req.stdin) sendStdin(ws, req.stdin).catch(reject);
    });
  });
}

async function sendStdin(ws: WebSocket, stdin: Readable): Promise<void> {
  if (ws.protocol !== "v5.channel.k8s.io")
    throw new Error(
      `the API server speaks ${ws.protocol || "no channel protocol"}, which cannot close stdin; exec with stdin needs v5.channel.k8s.io (Kubernetes 1.29 or later)`,
    );
  const send = (data: Buffer) =>
    new Promise<void>((resolve, reject) => ws.send(data, (err) => (err ? reject(err) : resolve())));
  for await (const chunk of stdin) await send(Buffer.concat([Buffer.from([0]), chunk as Buffer]));
  await send(Buffer.from([255, 0]));
}

/** The exit code in an exec's status message: 0 on Success, the ExitCode cause on NonZeroExitCode. */
function exitCodeOf(text: string): number {
  const status = JSON.parse(text) as {
    status?: string;
    message?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (cause?.message !== undefined) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? text}`);
}
