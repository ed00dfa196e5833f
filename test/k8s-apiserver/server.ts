/**
 * A stand-in Kubernetes API server for the tests, on loopback: the part of the core/v1 REST API a build driver
 * uses, as @kubernetes/client-node calls it. Namespaces exist when named. Pods are run for real by Podman
 * (./pod-runner.ts) with their status, logs (./log-tail.ts; `?follow=true` streams) and exec (./exec.ts); PVCs are Podman
 * named volumes; Secrets are kept and given to the Pods that refer to them. What a real API server refuses
 * (no name, no containers, a container without a name or image, a duplicate name) it refuses with the same
 * `Status` object and code. No authentication: it listens on 127.0.0.1 only.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { execa } from "execa";
import { ExecEndpoint } from "./exec.js";
import {
  type Container,
  type KubeObject,
  type PersistentVolumeClaim,
  type Pod,
  type Secret,
  status,
} from "./kube.js";
import { tailLog } from "./log-tail.js";
import { PodRunner } from "./pod-runner.js";

export interface ApiServerOptions {
  /** The podman executable; default "podman". */
  readonly podman?: string;
}

export interface ApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Podman volumes backing the claims of `namespace`, by claim name (for tests that look inside). */
  readonly claimVolume: (namespace: string, claim: string) => string | undefined;
  /** Podman pod name of a Pod that runs (for tests that check what is left). */
  readonly podmanPod: (namespace: string, pod: string) => string | undefined;
  /** Stops every Pod and removes every claim's volume it made, then stops listening. Idempotent. */
  close(): Promise<void>;
}

type Resource = "pods" | "persistentvolumeclaims" | "secrets";
const KINDS: Record<Resource, string> = {
  pods: "Pod",
  persistentvolumeclaims: "PersistentVolumeClaim",
  secrets: "Secret",
};

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const podman = options.podman ?? "podman";
  const objects = new Map<string, KubeObject>(); // `<resource>/<ns>/<name>`
  const runners = new Map<string, PodRunner>(); // `<ns>/<name>`
  const volumes = new Map<string, string>(); // `<ns>/<claim>` -> Podman volume
  const exec = new ExecEndpoint(podman);
  const deleting = new Set<Promise<void>>();
  let version = 1;

  const key = (r: Resource, ns: string, name: string) => `${r}/${ns}/${name}`;
  const get = <T extends KubeObject>(r: Resource, ns: string, name: string): T => {
    const obj = objects.get(key(r, ns, name));
    if (!obj) throw new HttpError(404, "NotFound", `${r} "${name}" not found`);
    return obj as T;
  };
  const podsUsing = (ns: string, claim: string) =>
    [...objects.entries()].filter(
      ([k, o]) =>
        k.startsWith(`pods/${ns}/`) &&
        ((o as Pod).spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim),
    );

  // the volume goes first: a client that no longer lists the claim finds no volume of it either
  const removeClaim = async (ns: string, name: string) => {
    const volume = volumes.get(`${ns}/${name}`);
    if (volume) await execa(podman, ["volume", "rm", "-f", volume], { reject: false });
    objects.delete(key("persistentvolumeclaims", ns, name));
    volumes.delete(`${ns}/${name}`);
  };

  /** Claims deleted while Pods used them go once no Pod does (the pvc-protection finalizer). */
  const releaseClaims = async (ns: string) => {
    for (const [k, o] of objects)
      if (k.startsWith(`persistentvolumeclaims/${ns}/`) && o.metadata?.deletionTimestamp) {
        const name = o.metadata.name ?? "";
        if (podsUsing(ns, name).length === 0) await removeClaim(ns, name);
      }
  };

  const deletePod = async (ns: string, name: string, grace: number) => {
    const pod = get<Pod>("pods", ns, name);
    // deleted again while it terminates: it stays listed until its containers are gone, as a real Pod does
    if (pod.metadata?.deletionTimestamp) return pod;
    if (pod.metadata) pod.metadata.deletionTimestamp = new Date().toISOString();
    const runner = runners.get(`${ns}/${name}`);
    runners.delete(`${ns}/${name}`);
    const gone = (async () => {
      await runner?.stop(grace);
      objects.delete(key("pods", ns, name));
      await releaseClaims(ns);
    })();
    deleting.add(gone);
    void gone.finally(() => deleting.delete(gone));
    return pod;
  };

  const create = async (r: Resource, ns: string, body: KubeObject): Promise<KubeObject> => {
    const kind = KINDS[r];
    const meta = body.metadata ?? {};
    const generate = (meta as { generateName?: string }).generateName;
    const name = meta.name || (generate ? `${generate}${randomBytes(3).toString("hex").slice(0, 5)}` : "");
    if (!name)
      throw new HttpError(
        422,
        "Invalid",
        `${kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      );
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
      throw new HttpError(
        422,
        "Invalid",
        `${kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      );
    if (objects.has(key(r, ns, name)))
      throw new HttpError(409, "AlreadyExists", `${r} "${name}" already exists`);
    const obj: KubeObject = {
      ...body,
      apiVersion: "v1",
      kind,
      metadata: {
        ...meta,
        name,
        namespace: ns,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        resourceVersion: String(version++),
      },
    };
    if (r === "pods") validatePod(obj as Pod);
    if (r === "secrets") {
      const secret = obj as Secret;
      secret.type ??= "Opaque";
      secret.data = { ...secret.data };
      for (const [k, v] of Object.entries(secret.stringData ?? {}))
        secret.data[k] = Buffer.from(v).toString("base64");
      delete secret.stringData;
    }
    if (r === "persistentvolumeclaims") {
      const volume = `k8s-${ns}-${name}-${randomBytes(3).toString("hex")}`;
      const labels = Object.entries(meta.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
      const made = await execa(podman, ["volume", "create", ...labels, volume], { reject: false });
      if (made.exitCode !== 0) throw new HttpError(500, "InternalError", made.stderr);
      volumes.set(`${ns}/${name}`, volume);
      (obj as PersistentVolumeClaim).status = { phase: "Bound" };
    }
    objects.set(key(r, ns, name), obj);
    if (r === "pods")
      runners.set(
        `${ns}/${name}`,
        new PodRunner(obj as Pod, {
          podman,
          claimVolume: (claim) => {
            const pvc = objects.get(key("persistentvolumeclaims", ns, claim));
            return pvc?.metadata?.deletionTimestamp ? undefined : volumes.get(`${ns}/${claim}`);
          },
          secret: (secret) => objects.get(key("secrets", ns, secret)) as Secret | undefined,
        }),
      );
    return obj;
  };

  const list = (r: Resource, ns: string, selector: string | null) => {
    const match = labelMatcher(selector ?? "");
    const items = [...objects.entries()]
      .filter(([k, o]) => k.startsWith(`${r}/${ns}/`) && match(o.metadata?.labels ?? {}))
      .map(([, o]) => o);
    return {
      kind: `${KINDS[r]}List`,
      apiVersion: "v1",
      metadata: { resourceVersion: String(version) },
      items,
    };
  };

  const logs = (res: ServerResponse, ns: string, name: string, query: URLSearchParams) => {
    const pod = get<Pod>("pods", ns, name);
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    const container = query.get("container") ?? (containers.length === 1 ? containers[0]?.name : undefined);
    if (!container)
      throw new HttpError(
        400,
        "BadRequest",
        `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(" ")}]`,
      );
    if (!containers.some((c) => c.name === container))
      throw new HttpError(400, "BadRequest", `container ${container} is not valid for pod ${name}`);
    const runner = runners.get(`${ns}/${name}`);
    if (!runner?.started(container)) {
      const reason = pod.spec?.initContainers?.length ? "PodInitializing" : "ContainerCreating";
      throw new HttpError(
        400,
        "BadRequest",
        `container "${container}" in pod "${name}" is waiting to start: ${reason}`,
      );
    }
    const follow = query.get("follow") === "true";
    // PodLogOptions.stream (Kubernetes 1.32+, PodLogsQuerySplitStreams): one of the two, else both interleaved
    const stream = query.get("stream") ?? "All";
    if (!["All", "Stdout", "Stderr"].includes(stream))
      throw new HttpError(
        422,
        "Invalid",
        `stream: Unsupported value: "${stream}": supported values: "All", "Stderr", "Stdout"`,
      );
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    res.writeHead(200, { "content-type": "text/plain" });
    void tailLog({
      path: runner.logPath(container) ?? "",
      stream: stream as "All" | "Stdout" | "Stderr",
      follow,
      ended: () => runner.ended(container),
      closed: () => closed,
      write: (bytes) => res.write(bytes),
    })
      .catch(() => {})
      .finally(() => res.end());
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (url.pathname === "/version" || url.pathname === "/version/")
        return send(200, {
          major: "1",
          minor: "31",
          gitVersion: "v1.31.0-cnbp-standin",
          platform: `linux/${process.arch === "x64" ? "amd64" : process.arch}`,
        });
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(url.pathname);
      const r = m?.[2] as Resource | undefined;
      if (!m || !r || !(r in KINDS))
        throw new HttpError(404, "NotFound", `the server could not find the requested resource`);
      const ns = m[1] ?? "";
      const name = m[3];
      const sub = m[4];
      if (name === undefined) {
        if (req.method === "GET") return send(200, list(r, ns, url.searchParams.get("labelSelector")));
        if (req.method === "POST") return send(201, await create(r, ns, (await readJson(req)) as KubeObject));
      } else if (sub === undefined) {
        if (req.method === "GET") return send(200, get(r, ns, name));
        if (req.method === "DELETE") {
          const body = (await readJson(req)) as { gracePeriodSeconds?: number } | undefined;
          const grace = Number(url.searchParams.get("gracePeriodSeconds") ?? body?.gracePeriodSeconds ?? 30);
          if (r === "pods") return send(200, await deletePod(ns, name, grace));
          const obj = get(r, ns, name);
          if (r === "persistentvolumeclaims" && podsUsing(ns, name).length > 0) {
            obj.metadata = {
              ...obj.metadata,
              deletionTimestamp: new Date().toISOString(),
              ...{ finalizers: ["kubernetes.io/pvc-protection"] },
            };
            return send(200, obj);
          }
          if (r === "persistentvolumeclaims") await removeClaim(ns, name);
          else objects.delete(key(r, ns, name));
          return send(200, { ...obj, ...{ status: { phase: "Terminating" } } });
        }
      } else if (r === "pods" && sub === "log" && req.method === "GET")
        return logs(res, ns, name, url.searchParams);
      throw new HttpError(
        405,
        "MethodNotAllowed",
        `the server does not allow this method on the requested resource`,
      );
    } catch (err) {
      if (err instanceof HttpError) return send(err.code, status(err.code, err.reason, err.message));
      return send(500, status(500, "InternalError", String(err)));
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    const runner = m ? runners.get(`${m[1]}/${m[2]}`) : undefined;
    const pod = m ? (objects.get(key("pods", m[1] ?? "", m[2] ?? "")) as Pod | undefined) : undefined;
    const container = url.searchParams.get("container") ?? pod?.spec?.containers?.[0]?.name ?? "";
    if (!runner?.running(container)) {
      socket.end(`HTTP/1.1 400 Bad Request\r\n\r\ncontainer "${container}" is not running\n`);
      return;
    }
    exec.handle(req, socket, head, runner.containerName(container), url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    claimVolume: (ns, claim) => volumes.get(`${ns}/${claim}`),
    podmanPod: (ns, pod) => runners.get(`${ns}/${pod}`)?.podName,
    async close() {
      if (!server.listening) return;
      await Promise.all(deleting);
      for (const runner of runners.values()) await runner.stop(0);
      runners.clear();
      for (const volume of volumes.values())
        await execa(podman, ["volume", "rm", "-f", volume], { reject: false });
      volumes.clear();
      objects.clear();
      exec.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Refuses a Pod a real API server would refuse for the fields the stand-in runs. */
function validatePod(pod: Pod): void {
  const name = pod.metadata?.name ?? "";
  const invalid = (field: string, what: string) =>
    new HttpError(422, "Invalid", `Pod "${name}" is invalid: ${field}: ${what}`);
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) throw invalid("spec.containers", "Required value");
  const check = (c: Container, i: number, field: string) => {
    if (!c.name) throw invalid(`${field}[${i}].name`, "Required value");
    if (!c.image) throw invalid(`${field}[${i}].image`, "Required value");
  };
  for (const [i, c] of containers.entries()) check(c, i, "spec.containers");
  for (const [i, c] of (pod.spec?.initContainers ?? []).entries()) check(c, i, "spec.initContainers");
  const restart = pod.spec?.restartPolicy;
  if (restart !== undefined && restart !== "Never")
    throw invalid(
      "spec.restartPolicy",
      `Unsupported value: "${restart}": the stand-in runs restartPolicy Never only`,
    );
  const volumes = new Set((pod.spec?.volumes ?? []).map((v) => v.name));
  for (const c of [...containers, ...(pod.spec?.initContainers ?? [])])
    for (const m of c.volumeMounts ?? [])
      if (!volumes.has(m.name))
        throw invalid(`spec.containers[].volumeMounts.name`, `Not found: "${m.name}"`);
}

/** A label selector's `key=value`, `key==value`, `key!=value` and `key` terms, ANDed. */
function labelMatcher(selector: string): (labels: Record<string, string>) => boolean {
  const terms = selector
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t);
  return (labels) =>
    terms.every((t) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(t);
      if (ne) return labels[ne[1] ?? ""] !== ne[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(t);
      if (eq) return labels[eq[1] ?? ""] === eq[2];
      return t in labels;
    });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "BadRequest", "the request body is not JSON");
  }
}
