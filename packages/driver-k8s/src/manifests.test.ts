// The objects the driver creates, validated against the Kubernetes OpenAPI schema (kubernetes-models), so that a
// real API server accepts what the stand-in accepted; and what they say about users, credentials and volumes.
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";
import { describe, expect, it } from "vitest";
import { helperPod, stepPod, stepSecret, volumeClaim } from "./manifests.js";
import { kubeLabels, LABELS_ANNOTATION, objectName } from "./names.js";

const labels = {
  "io.cnbp.build": "b1",
  "io.cnbp.driver-testkit.run": "contract-1",
  "io.cnbp.note": "not a label value!",
};
const meta = (name: string) => ({ name, labels, kubeLabels: kubeLabels(labels) });
const claims = new Map([
  ["layers", "cnbp-b1-layers-0a1b2c3d"],
  ["cache", "cnbp-cache"],
]);

/** Validates `obj` as `Model`; resolves to the schema's complaint, or undefined when valid. */
function complaint(Model: new (data: never) => { validate(): void }, obj: unknown): string | undefined {
  try {
    new Model(obj as never).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("manifests", () => {
  const step = stepPod({
    meta: meta(objectName("b1", "analyzer")),
    step: {
      image: "registry.example/builder:1",
      cmd: ["/cnb/lifecycle/analyzer", "-log-level", "debug"],
      env: { CNB_PLATFORM_API: "0.13", CNB_REGISTRY_AUTH: '{"registry.example":"Basic eDp5"}' },
      user: "1000:1001",
      workingDir: "/workspace",
      network: "host",
      mounts: [
        { type: "volume", volume: "layers", target: "/layers" },
        { type: "volume", volume: "cache", target: "/cache", readOnly: true },
        { type: "volume", volume: "layers", target: "/again" },
      ],
    },
    claims,
    secretName: "cnbp-b1-analyzer-env",
    options: {
      serviceAccount: "builder",
      nodeSelector: { "kubernetes.io/arch": "amd64" },
      stepTimeout: 600,
      memoryLimit: "2Gi",
    },
  });

  it("a step's Pod is valid: non-root, no privilege escalation, credentials from its Secret only, each claim once", () => {
    expect(complaint(Pod, step)).toBeUndefined();
    const c = step.spec?.containers[0];
    expect(c?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      runAsUser: 1000,
      runAsGroup: 1001,
      runAsNonRoot: true,
    });
    expect(c?.resources).toEqual({ limits: { memory: "2Gi" } });
    expect(c?.env).toEqual([
      { name: "CNB_PLATFORM_API", value: "0.13" },
      {
        name: "CNB_REGISTRY_AUTH",
        valueFrom: { secretKeyRef: { name: "cnbp-b1-analyzer-env", key: "CNB_REGISTRY_AUTH" } },
      },
    ]);
    expect(JSON.stringify(step)).not.toContain("eDp5");
    expect(step.spec?.volumes).toEqual([
      { name: "volume-0", persistentVolumeClaim: { claimName: "cnbp-b1-layers-0a1b2c3d" } },
      { name: "volume-1", persistentVolumeClaim: { claimName: "cnbp-cache" } },
    ]);
    expect(c?.volumeMounts).toEqual([
      { name: "volume-0", mountPath: "/layers" },
      { name: "volume-1", mountPath: "/cache", readOnly: true },
      { name: "volume-0", mountPath: "/again" },
    ]);
    expect(step.spec).toMatchObject({
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      serviceAccountName: "builder",
      activeDeadlineSeconds: 600,
      hostNetwork: true,
    });
  });

  it("keeps cnbp's labels whole in an annotation and as labels only those Kubernetes takes", () => {
    expect(step.metadata?.labels).toEqual({
      "io.cnbp.build": "b1",
      "io.cnbp.driver-testkit.run": "contract-1",
      "app.kubernetes.io/managed-by": "cnbp",
    });
    expect(JSON.parse(step.metadata?.annotations?.[LABELS_ANNOTATION] ?? "")).toEqual(labels);
  });

  it("a root step runs as root without runAsNonRoot; a step without a user keeps the image's", () => {
    const root = stepPod({
      meta: meta("root"),
      step: { image: "i", cmd: ["/x"], user: "0" },
      claims,
      options: {},
    });
    expect(complaint(Pod, root)).toBeUndefined();
    expect(root.spec?.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
    });
    const image = stepPod({ meta: meta("image"), step: { image: "i", cmd: ["/x"] }, claims, options: {} });
    expect(complaint(Pod, image)).toBeUndefined();
    expect(image.spec?.containers[0]?.securityContext).toEqual({ allowPrivilegeEscalation: false });
    expect(image.spec?.volumes).toBeUndefined();
  });

  it("the helper Pod, the claim and the Secret are valid", () => {
    const helper = helperPod(meta("helper"), "busybox:1.36", ["a", "b"], {});
    expect(complaint(Pod, helper)).toBeUndefined();
    expect(helper.spec?.containers[0]?.volumeMounts).toEqual([
      { name: "volume-0", mountPath: "/cnbp/volumes/0" },
      { name: "volume-1", mountPath: "/cnbp/volumes/1" },
    ]);
    const claim = volumeClaim(meta("cnbp-cache"), "2Gi", "fast");
    expect(complaint(PersistentVolumeClaim, claim)).toBeUndefined();
    expect(claim.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "2Gi" } },
      storageClassName: "fast",
    });
    expect(complaint(Secret, stepSecret(meta("s"), { CNB_REGISTRY_AUTH: "{}" }))).toBeUndefined();
  });

  it("the schema check is real: a Pod with a user name instead of a uid is refused", () => {
    const bad = {
      ...step,
      spec: { ...step.spec, containers: [{ name: "x", image: "i", securityContext: { runAsUser: "cnb" } }] },
    };
    expect(complaint(Pod, bad)).toMatch("runAsUser must be integer");
  });
});
