// The tests' stand-in Kubernetes API server (test/k8s-apiserver), driven by @kubernetes/client-node as the driver
// drives it (exec through the driver's own socket, ./exec.ts). Lives here, in the unit project, because it needs
// no built CLI. Needs Podman, the registry and the busybox stack pushed there (scripts/stacks/build.sh).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { CoreV1Api, KubeConfig, Log, type V1Pod, VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiServer, startApiServer, writeKubeconfig } from "../../../test/k8s-apiserver/index.js";
import { podExec } from "./exec.js";

const IMAGE = "127.0.0.1:5000/cnbp-stacks/busybox-run:latest";
const NS = `standin-${process.pid.toString(36)}`;

let server: ApiServer;
let dir: string;
let core: CoreV1Api;
let kc: KubeConfig;

beforeAll(async () => {
  server = await startApiServer();
  dir = await mkdtemp(join(tmpdir(), "cnbp-k8s-standin-"));
  await writeKubeconfig(join(dir, "config"), { server: server.url, namespace: NS });
  kc = new KubeConfig();
  kc.loadFromFile(join(dir, "config"));
  core = kc.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const podOf = (name: string, spec: V1Pod["spec"], labels: Record<string, string> = {}): V1Pod => ({
  metadata: { name, labels },
  spec: { restartPolicy: "Never", ...spec, containers: spec?.containers ?? [] },
});

async function until(name: string, done: (p: V1Pod) => boolean, ms = 30_000): Promise<V1Pod> {
  const end = Date.now() + ms;
  for (;;) {
    const pod = await core.readNamespacedPod({ name, namespace: NS });
    if (done(pod)) return pod;
    if (Date.now() > end) expect.fail(`pod ${name} stayed ${JSON.stringify(pod.status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const ended = (p: V1Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

async function logsOf(name: string, container: string): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const finished = new Promise((r) => out.on("end", r));
  await new Log(kc).log(NS, name, container, out, { follow: true });
  await finished;
  return Buffer.concat(chunks).toString();
}

describe("the stand-in API server", () => {
  it("answers /version with a Kubernetes version and the platform Pods run on", async () => {
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v).toMatchObject({
      major: "1",
      gitVersion: expect.stringMatching(/^v1\.\d+\.\d+/),
      platform: "linux/amd64",
    });
  });

  it("runs a Pod's init container, then its container, on a PVC, as the securityContext's user; status has each exit code; logs stream", async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: {
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "creds" }, stringData: { token: "s3cret" } },
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: podOf(
        "two-steps",
        {
          volumes: [
            { name: "data", persistentVolumeClaim: { claimName: "data" } },
            { name: "creds", secret: { secretName: "creds" } },
          ],
          initContainers: [
            {
              name: "first",
              image: IMAGE,
              command: ["/bin/sh", "-c", "echo first; echo from-init > /w/file; chmod 777 /w"],
              volumeMounts: [{ name: "data", mountPath: "/w" }],
            },
          ],
          containers: [
            {
              name: "second",
              image: IMAGE,
              command: ["/bin/sh", "-c"],
              args: ['cat /w/file; id -u; id -g; echo "$TOKEN"; cat /s/token; echo; echo oops >&2; exit 3'],
              env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }],
              securityContext: {
                runAsUser: 1234,
                runAsGroup: 5678,
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
              },
              volumeMounts: [
                { name: "data", mountPath: "/w" },
                { name: "creds", mountPath: "/s", readOnly: true },
              ],
            },
          ],
        },
        { app: "standin", step: "two" },
      ),
    });
    const pod = await until("two-steps", ended);
    expect(pod.status?.phase).toBe("Failed");
    expect(pod.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: "Error",
    });
    expect(await logsOf("two-steps", "first")).toBe("first\n");
    expect(await logsOf("two-steps", "second")).toBe("from-init\n1234\n5678\ns3cret\ns3cret\noops\n");

    const listed = await core.listNamespacedPod({ namespace: NS, labelSelector: "app=standin,step=two" });
    expect(listed.items.map((p) => p.metadata?.name)).toEqual(["two-steps"]);
    expect(
      (await core.listNamespacedPod({ namespace: NS, labelSelector: "app=standin,step=one" })).items,
    ).toEqual([]);

    const podmanPod = server.podmanPod(NS, "two-steps");
    await core.deleteNamespacedPod({ name: "two-steps", namespace: NS, gracePeriodSeconds: 0 });
    await expect
      .poll(
        () =>
          core.readNamespacedPod({ name: "two-steps", namespace: NS }).then(
            () => "there",
            (e) => e.code,
          ),
        { timeout: 20_000, interval: 100 },
      )
      .toBe(404);
    expect(spawnSync("podman", ["pod", "exists", podmanPod ?? ""]).status).toBe(1);

    const volume = server.claimVolume(NS, "data");
    await core.deleteNamespacedPersistentVolumeClaim({ name: "data", namespace: NS });
    expect(spawnSync("podman", ["volume", "exists", volume ?? ""]).status).toBe(1);
    await core.deleteNamespacedSecret({ name: "creds", namespace: NS });
    await expect(core.readNamespacedSecret({ name: "creds", namespace: NS })).rejects.toMatchObject({
      code: 404,
    });
  });

  it("execs a command with stdin streamed in (v5 channel protocol, closed at its end), stdout and stderr back apart, and the exit code from the status channel", async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: podOf("sleeper", {
        containers: [
          { name: "main", image: IMAGE, imagePullPolicy: "IfNotPresent", command: ["/bin/sleep", "600"] },
        ],
      }),
    });
    await until("sleeper", (p) => p.status?.phase === "Running");
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const code = await podExec(kc, {
      namespace: NS,
      pod: "sleeper",
      container: "main",
      command: ["/bin/sh", "-c", "cat; echo bad >&2; exit 4"],
      stdin: Readable.from([Buffer.from("through stdin\n")]),
      stdout: (c) => out.push(c),
      stderr: (c) => err.push(c),
    });
    expect(code).toBe(4);
    expect(Buffer.concat(out).toString()).toBe("through stdin\n");
    expect(Buffer.concat(err).toString()).toBe("bad\n");
    await core.deleteNamespacedPod({ name: "sleeper", namespace: NS, gracePeriodSeconds: 0 });
  });

  it("keeps a Pod whose image cannot be pulled Pending with ImagePullBackOff, and one whose claim is missing Unschedulable", async () => {
    const absent = "127.0.0.1:5000/cnbp-k8s-standin/absent:1";
    await core.createNamespacedPod({
      namespace: NS,
      body: podOf("no-image", { containers: [{ name: "main", image: absent, command: ["/bin/true"] }] }),
    });
    const pod = await until(
      "no-image",
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff",
    );
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(
      `Back-off pulling image "${absent}"`,
    );
    await core.createNamespacedPod({
      namespace: NS,
      body: podOf("no-claim", {
        volumes: [{ name: "v", persistentVolumeClaim: { claimName: "absent" } }],
        containers: [
          {
            name: "main",
            image: IMAGE,
            command: ["/bin/true"],
            volumeMounts: [{ name: "v", mountPath: "/v" }],
          },
        ],
      }),
    });
    const unscheduled = await until("no-claim", (p) => (p.status?.conditions ?? []).length > 0);
    expect(unscheduled.status?.conditions?.[0]).toMatchObject({
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message: '0/1 nodes are available: persistentvolumeclaim "absent" not found.',
    });
    for (const name of ["no-image", "no-claim"]) await core.deleteNamespacedPod({ name, namespace: NS });
  });

  it("refuses what a real API server refuses: no name, no containers, a container without an image, a duplicate", async () => {
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => expect.fail("accepted"),
        (e: { code: number; body: string }) => ({ code: e.code, message: JSON.parse(e.body).message }),
      );
    expect(
      await refused(
        core.createNamespacedPod({
          namespace: NS,
          body: { spec: { containers: [{ name: "a", image: IMAGE }] } },
        }),
      ),
    ).toEqual({
      code: 422,
      message: 'Pod "" is invalid: metadata.name: Required value: name or generateName is required',
    });
    expect(
      await refused(core.createNamespacedPod({ namespace: NS, body: podOf("empty", { containers: [] }) })),
    ).toEqual({
      code: 422,
      message: 'Pod "empty" is invalid: spec.containers: Required value',
    });
    expect(
      await refused(
        core.createNamespacedPod({
          namespace: NS,
          body: podOf("no-img", { containers: [{ name: "a" } as never] }),
        }),
      ),
    ).toEqual({ code: 422, message: 'Pod "no-img" is invalid: spec.containers[0].image: Required value' });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "twice" }, stringData: { a: "b" } },
    });
    expect(
      await refused(core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "twice" } } })),
    ).toEqual({
      code: 409,
      message: 'secrets "twice" already exists',
    });
    await core.deleteNamespacedSecret({ name: "twice", namespace: NS });
  });

  it("close stops every Pod and removes every claim's volume: Podman holds nothing of the namespace after it", async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: "left" } } });
    await core.createNamespacedPod({
      namespace: NS,
      body: podOf("left", {
        volumes: [{ name: "v", persistentVolumeClaim: { claimName: "left" } }],
        containers: [
          {
            name: "main",
            image: IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["/bin/sleep", "600"],
            volumeMounts: [{ name: "v", mountPath: "/v" }],
          },
        ],
      }),
    });
    await until("left", (p) => p.status?.phase === "Running");
    await server.close();
    const names = (args: string[]) =>
      spawnSync("podman", args, { encoding: "utf8" })
        .stdout.split("\n")
        .filter((n) => n.startsWith(`k8s-${NS}-`));
    expect(names(["pod", "ls", "--format", "{{.Name}}"])).toEqual([]);
    expect(names(["ps", "-a", "--format", "{{.Names}}"])).toEqual([]);
    expect(names(["volume", "ls", "--format", "{{.Name}}"])).toEqual([]);
  });
});
