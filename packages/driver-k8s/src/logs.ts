/**
 * Follows a container's log as it is written (`pods/<name>/log?follow=true`), calling `onData` with each chunk
 * until the container ends. With `stream` "Stdout" or "Stderr" it asks for one of the two (PodLogOptions.stream,
 * Kubernetes 1.32+ with the PodLogsQuerySplitStreams feature gate); without, the API's one interleaved log.
 * Written on node:http(s) with the kubeconfig's TLS and credentials: client-node's Log has no `stream` option.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface LogRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly stream?: "Stdout" | "Stderr";
  readonly onData: (chunk: Buffer) => void;
  readonly signal?: AbortSignal;
}

/** Resolves when the log ends (the container ended, or `signal` aborted); rejects when the API server refuses. */
export async function followLog(kc: KubeConfig, req: LogRequest): Promise<void> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster");
  const query = new URLSearchParams({ container: req.container, follow: "true" });
  if (req.stream) query.set("stream", req.stream);
  const url = new URL(`${server}/api/v1/namespaces/${req.namespace}/pods/${req.pod}/log?${query}`);
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = request(
      url,
      { ...opts, method: "GET", ...(req.signal ? { signal: req.signal } : {}) },
      resolve,
    );
    r.on("error", reject);
    r.end();
  });
  if (res.statusCode !== 200) {
    const body: Buffer[] = [];
    for await (const c of res) body.push(c as Buffer);
    const text = Buffer.concat(body).toString();
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {}
    throw new Error(`the API server refused the log (${res.statusCode}): ${message}`);
  }
  try {
    for await (const chunk of res) req.onData(chunk as Buffer);
  } catch (err) {
    if (!req.signal?.aborted) throw err;
  }
}
