/**
 * The cluster the driver talks to: a kubeconfig (the `kubeconfig` option, else $KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account), one of its contexts, a namespace; the API clients;
 * and how API failures become DriverErrors.
 */

import { DriverError, type DriverErrorCode } from "@cnbp/core";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { DRIVER_NAME } from "./names.js";

export interface ClusterOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

export class Cluster {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly namespace: string;
  /** Where the kubeconfig came from, for error hints. */
  readonly source: string;

  constructor(options: ClusterOptions) {
    this.kc = new KubeConfig();
    if (options.kubeconfig) {
      this.source = `the kubeconfig ${options.kubeconfig}`;
      this.kc.loadFromFile(options.kubeconfig);
    } else {
      this.source = process.env.KUBECONFIG
        ? `$KUBECONFIG (${process.env.KUBECONFIG})`
        : "the default kubeconfig";
      this.kc.loadFromDefault();
    }
    if (options.context) {
      if (!this.kc.getContextObject(options.context))
        throw new DriverError(
          "CNBP_DRIVER_UNAVAILABLE",
          DRIVER_NAME,
          "connect",
          `${this.source} has no context "${options.context}"`,
          {
            hints: [
              `its contexts: ${
                this.kc
                  .getContexts()
                  .map((c) => c.name)
                  .join(", ") || "none"
              }; set the driver's "context" option to one of them`,
            ],
          },
        );
      this.kc.setCurrentContext(options.context);
    }
    this.namespace =
      options.namespace ?? this.kc.getContextObject(this.kc.getCurrentContext())?.namespace ?? "default";
    this.core = this.kc.makeApiClient(CoreV1Api);
  }

  /** The API server's URL, for messages. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? "(no cluster)";
  }

  /** Turns an API call's failure into a DriverError of `operation`: unreachable, refused (with the server's message), or failed. */
  fail(operation: string, err: unknown, code: DriverErrorCode = "CNBP_DRIVER_FAILED"): DriverError {
    if (err instanceof DriverError) return err;
    if (err instanceof ApiException) {
      const message = serverMessage(err.body) ?? `HTTP ${err.code}`;
      const hints =
        err.code === 401 || err.code === 403
          ? [`the credentials of ${this.source} may not do this in namespace "${this.namespace}"`]
          : [];
      return new DriverError(
        code,
        DRIVER_NAME,
        operation,
        `the API server at ${this.server} refused: ${message}`,
        {
          hints,
          cause: err,
        },
      );
    }
    return new DriverError(
      "CNBP_DRIVER_UNAVAILABLE",
      DRIVER_NAME,
      operation,
      `cannot reach the API server at ${this.server}: ${err instanceof Error ? err.message : String(err)}`,
      {
        hints: [
          `the cluster comes from ${this.source}; set the driver's "kubeconfig" or "context" option for another`,
        ],
        cause: err,
      },
    );
  }
}

/** Whether `err` is the API server's 404. */
export const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

function serverMessage(body: unknown): string | undefined {
  if (typeof body !== "string") return undefined;
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return body.trim() || undefined;
  }
}
