/** A kubeconfig file for the stand-in API server, as a user's would look for a real cluster (no credentials). */
import { writeFile } from "node:fs/promises";

export interface KubeconfigSpec {
  readonly server: string;
  readonly namespace: string;
  /** The context's (and cluster's and user's) name; default "standin". */
  readonly context?: string;
}

/** Writes the kubeconfig (JSON, which is YAML) to `file`; its current context is `spec.context`. */
export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<void> {
  const name = spec.context ?? "standin";
  const config = {
    apiVersion: "v1",
    kind: "Config",
    // @kubernetes/client-node speaks plain HTTP only with this set; the server listens on loopback only
    clusters: [{ name, cluster: { server: spec.server, "insecure-skip-tls-verify": true } }],
    users: [{ name, user: {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: spec.namespace } }],
    "current-context": name,
  };
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
