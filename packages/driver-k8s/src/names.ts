/** What the Kubernetes driver calls things: its name, the labels and annotation on what it creates, object names. */
import { randomBytes } from "node:crypto";

export const DRIVER_NAME = "k8s";

/** On every Pod, PVC and Secret the driver creates: how it finds its own. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "cnbp" } as const;

/**
 * cnbp's labels (the workspace's, a volume's, `io.cnbp.build`) as a JSON object: Kubernetes restricts label
 * values (63 characters of `[-_.A-Za-z0-9]`), so they are kept whole here and filtered on by the driver.
 */
export const LABELS_ANNOTATION = "cnbp.io/labels";

export { BUILD_LABEL } from "@cnbp/core/drivers";

/** Lowercase RFC 1123 label of at most `max` characters, from any text. */
export function dnsLabel(text: string, max = 40): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, max)
    .replace(/-+$/, "");
  return s || "x";
}

/** A new object name: `cnbp-<build>-<role>-<random>`, at most 63 characters. */
export function objectName(build: string, role: string): string {
  return `cnbp-${dnsLabel(build, 30)}-${dnsLabel(role, 16)}-${randomBytes(4).toString("hex")}`;
}

/** The labels of `labels` Kubernetes accepts as they are, for selectors and `kubectl get -l`. */
export function kubeLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const key = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
  const value = /^([A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)?$/;
  return Object.fromEntries(Object.entries(labels).filter(([k, v]) => key.test(k) && value.test(v)));
}
