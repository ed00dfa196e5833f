// What the k8s driver does beyond the contract kit: where it connects and how it says it cannot, its registry-only
// image store, and a step's registry credentials in a Secret of its own. Through the tests' stand-in API server
// (test/k8s-apiserver); needs Podman, the registry and the busybox stack pushed there (scripts/stacks/build.sh).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { oneFileTar } from "@cnbp/driver-testkit";
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiServer, startApiServer, writeKubeconfig } from "../../../test/k8s-apiserver/index.js";
import { createDriver } from "./index.js";

const REGISTRY = "127.0.0.1:5000";
const IMAGE = `${REGISTRY}/cnbp-stacks/busybox-run:latest`;
const NAMESPACE = `driver-${process.pid.toString(36)}`;

let server: ApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = await startApiServer();
  dir = await mkdtemp(join(tmpdir(), "cnbp-k8s-driver-"));
  kubeconfig = join(dir, "config");
  await writeKubeconfig(kubeconfig, { server: server.url, namespace: NAMESPACE });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail("expected a rejection"),
    (e: { code?: string; message?: string; hints?: readonly string[] }) => ({
      code: e.code,
      message: e.message,
      hints: e.hints,
    }),
  );

describe("k8s driver: the cluster", () => {
  it("info names Kubernetes, the API server's version and platform, and the namespace's registry store", async () => {
    expect(await createDriver({ kubeconfig }).info()).toEqual({
      engine: "kubernetes",
      version: "v1.31.0-cnbp-standin",
      os: "linux",
      arch: "amd64",
      rootless: false,
      imageStore: `registry:kubernetes:${server.url}/${NAMESPACE}`,
    });
  });

  it("an API server that does not answer is CNBP_DRIVER_UNAVAILABLE naming it and where the cluster came from", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const a = s.address();
        s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
      });
    });
    const file = join(dir, "closed");
    await writeKubeconfig(file, { server: `http://127.0.0.1:${port}`, namespace: "x" });
    const err = await rejection(createDriver({ kubeconfig: file }).info());
    expect(err.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err.message).toMatch(
      new RegExp(
        `^driver k8s: info: cannot reach the API server at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
      ),
    );
    expect(err.hints).toEqual([
      `the cluster comes from the kubeconfig ${file}; set the driver's "kubeconfig" or "context" option for another`,
    ]);
  });

  it("a context the kubeconfig lacks is refused by name, listing the ones it has", async () => {
    const err = await rejection(createDriver({ kubeconfig, context: "prod" }).info());
    expect(err).toEqual({
      code: "CNBP_DRIVER_UNAVAILABLE",
      message: `driver k8s: connect: the kubeconfig ${kubeconfig} has no context "prod"`,
      hints: ['its contexts: standin; set the driver\'s "context" option to one of them'],
    });
  });
});

describe("k8s driver: images live in registries", () => {
  const images = () => createDriver({ kubeconfig }).images;

  it("inspect and pull read the image from its registry: id, repo digest, config", async () => {
    const raw = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${IMAGE}`]);
    const manifest = JSON.parse(raw.toString()) as { config: { digest: string } };
    const config = JSON.parse(
      execFileSync("skopeo", ["inspect", "--tls-verify=false", "--config", `docker://${IMAGE}`]).toString(),
    ) as { config: { User: string; Env: string[] }; rootfs: { diff_ids: string[] } };
    const digest = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
    const expected = {
      id: manifest.config.digest,
      tags: [IMAGE],
      repoDigests: [`${REGISTRY}/cnbp-stacks/busybox-run@${digest}`],
      os: "linux",
      arch: "amd64",
      user: config.config.User,
      env: config.config.Env,
      diffIds: config.rootfs.diff_ids,
    };
    expect(await images().inspect(IMAGE)).toMatchObject(expected);
    expect(await images().pull(IMAGE, { policy: "always" })).toMatchObject(expected);
    expect(await images().inspect(manifest.config.digest)).toBeUndefined();
  });

  it("a step names an image it pulled by id: the Pod pulls it by its repo digest", async () => {
    const driver = createDriver({ kubeconfig, helperImage: IMAGE });
    const { id, repoDigests } = await driver.images.pull(IMAGE);
    expect(await driver.images.inspect(id)).toMatchObject({ id, repoDigests });
    expect(await driver.images.podImage(id)).toBe(repoDigests[0]);
    const ws = await driver.workspace({ buildId: "by-id", volumes: [] });
    const out: Buffer[] = [];
    try {
      const io = {
        stdout: { write: (c: Uint8Array) => out.push(Buffer.from(c)) },
        stderr: { write: () => {} },
      };
      expect(await ws.run({ image: id, cmd: ["/bin/sh", "-c", "echo by id"] }, io)).toEqual({ exitCode: 0 });
    } finally {
      await ws.dispose();
    }
    expect(Buffer.concat(out).toString()).toBe("by id\n");
    expect(repoDigests[0]).toMatch(/^127\.0\.0\.1:5000\/cnbp-stacks\/busybox-run@sha256:[0-9a-f]{64}$/);
  });

  it("an absent image: inspect finds none, pull is CNBP_IMAGE_NOT_FOUND, remove succeeds", async () => {
    const absent = `${REGISTRY}/cnbp-k8s-driver/absent:1`;
    expect(await images().inspect(absent)).toBeUndefined();
    expect(await rejection(images().pull(absent))).toEqual({
      code: "CNBP_IMAGE_NOT_FOUND",
      message: `driver k8s: images.pull: no image ${absent} in its registry`,
      hints: ["the cluster's nodes pull images from a registry: push the image there, or check the name"],
    });
    await images().remove(absent);
  });

  it("OCI layouts, tags and deletes are CNBP_UNSUPPORTED, saying what to do instead", async () => {
    const hints = ["the k8s driver's images live in registries only"];
    expect(await rejection(images().importOciLayout("/tmp/layout", { tag: "x" }))).toEqual({
      code: "CNBP_UNSUPPORTED",
      message:
        "driver k8s: images.importOciLayout: cannot load the OCI layout /tmp/layout: push the image to a registry the cluster pulls from",
      hints,
    });
    expect(await rejection(images().exportOciLayout(IMAGE, "/tmp/layout"))).toEqual({
      code: "CNBP_UNSUPPORTED",
      message: `driver k8s: images.exportOciLayout: cannot write ${IMAGE} to an OCI layout: copy it from its registry instead`,
      hints,
    });
    expect(await rejection(images().tag(IMAGE, `${IMAGE}-copy`))).toMatchObject({
      code: "CNBP_UNSUPPORTED",
      message: `driver k8s: images.tag: cannot tag ${IMAGE} as ${IMAGE}-copy: tag it in its registry (e.g. with skopeo copy)`,
    });
    expect(await rejection(images().remove(IMAGE))).toMatchObject({
      code: "CNBP_UNSUPPORTED",
      message: `driver k8s: images.remove: will not delete ${IMAGE} from its registry`,
    });
  });
});

describe("k8s driver: steps", () => {
  it("a step's CNB_REGISTRY_AUTH comes from a Secret of its own, never in the Pod spec; the Secret goes with the step", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const driver = createDriver({ kubeconfig, helperImage: IMAGE, startTimeout: 60 });
    const ws = await driver.workspace({ buildId: "creds", volumes: [{ name: "gate" }] });
    try {
      const auth = '{"registry.example":"Basic c2VjcmV0"}';
      const out: Buffer[] = [];
      const running = ws.run(
        {
          image: IMAGE,
          user: "1000:1000",
          env: { CNB_REGISTRY_AUTH: auth, CNB_PLATFORM_API: "0.13" },
          cmd: [
            "/bin/sh",
            "-c",
            'echo "$CNB_REGISTRY_AUTH|$CNB_PLATFORM_API"; while [ ! -f /g/go ]; do sleep 0.05; done',
          ],
          mounts: [{ type: "volume", volume: "gate", target: "/g" }],
        },
        { stdout: { write: (c) => out.push(Buffer.from(c)) }, stderr: { write: () => {} } },
      );
      await expect
        .poll(() => Buffer.concat(out).toString(), { timeout: 60_000, interval: 100 })
        .toBe(`${auth}|0.13\n`);
      const pods = (
        await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "io.cnbp.build=creds" })
      ).items;
      const seen: V1Pod | undefined = pods.find(
        (p) => p.spec?.containers[0]?.image === IMAGE && p.spec.containers[0].command?.[0] === "/bin/sh",
      );
      const secrets = (await core.listNamespacedSecret({ namespace: NAMESPACE })).items;
      expect(secrets.map((s) => Buffer.from(s.data?.CNB_REGISTRY_AUTH ?? "", "base64").toString())).toEqual([
        auth,
      ]);
      const secretName = secrets[0]?.metadata?.name;
      expect(seen?.spec?.containers[0]?.env).toEqual([
        {
          name: "CNB_REGISTRY_AUTH",
          valueFrom: { secretKeyRef: { name: secretName, key: "CNB_REGISTRY_AUTH" } },
        },
        { name: "CNB_PLATFORM_API", value: "0.13" },
      ]);
      expect(JSON.stringify(seen)).not.toContain("c2VjcmV0");
      expect(seen?.spec?.containers[0]?.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        runAsUser: 1000,
        runAsGroup: 1000,
        runAsNonRoot: true,
      });
      await ws.put("gate", "/", Readable.from([oneFileTar("go", "")]));
      expect(await running).toEqual({ exitCode: 0 });
      expect((await core.listNamespacedSecret({ namespace: NAMESPACE })).items).toEqual([]);
    } finally {
      await ws.dispose();
    }
    expect(
      (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "io.cnbp.build=creds" })).items,
    ).toEqual([]);
    expect(
      (
        await core.listNamespacedPersistentVolumeClaim({
          namespace: NAMESPACE,
          labelSelector: "io.cnbp.build=creds",
        })
      ).items,
    ).toEqual([]);
  });

  it("a step with a user name, a host directory or no network is CNBP_UNSUPPORTED before any Pod starts", async () => {
    const ws = await createDriver({ kubeconfig, helperImage: IMAGE }).workspace({
      buildId: "refused",
      volumes: [],
    });
    const io = { stdout: { write: () => {} }, stderr: { write: () => {} } };
    try {
      expect(await rejection(ws.run({ image: IMAGE, cmd: ["/bin/true"], user: "cnb" }, io))).toMatchObject({
        code: "CNBP_UNSUPPORTED",
        message: 'driver k8s: workspace.run: user "cnb": Kubernetes runs a container as a numeric uid[:gid]',
      });
      expect(
        await rejection(
          ws.run(
            { image: IMAGE, cmd: ["/bin/true"], mounts: [{ type: "bind", source: "/src", target: "/s" }] },
            io,
          ),
        ),
      ).toEqual({
        code: "CNBP_UNSUPPORTED",
        message:
          "driver k8s: workspace.run: cannot mount the host directory /src: a Pod runs on a cluster node, not this machine",
        hints: ["put the files into a workspace volume instead"],
      });
      expect(
        await rejection(ws.run({ image: IMAGE, cmd: ["/bin/true"], network: "none" }, io)),
      ).toMatchObject({
        code: "CNBP_UNSUPPORTED",
        message:
          'driver k8s: workspace.run: network "none": a Pod always has its cluster\'s network (restrict it with a NetworkPolicy)',
      });
    } finally {
      await ws.dispose();
    }
  });

  it("a helper image the cluster cannot pull is CNBP_DRIVER_FAILED with Kubernetes' reason, and its Pod is gone", async () => {
    const absent = `${REGISTRY}/cnbp-k8s-driver/absent-helper:1`;
    const driver = createDriver({ kubeconfig, helperImage: absent, startTimeout: 60 });
    const ws = await driver.workspace({ buildId: "pull-fails", volumes: [{ name: "data" }] });
    try {
      const err = await rejection(ws.put("data", "/", Readable.from([oneFileTar("x", "x")])));
      expect(err.code).toBe("CNBP_DRIVER_FAILED");
      expect(err.message).toMatch(
        `driver k8s: workspace.put: the helper Pod for files cannot start: ImagePullBackOff: Back-off pulling image "${absent}"`,
      );
    } finally {
      await ws.dispose();
    }
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const pods = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: NAMESPACE, labelSelector: "io.cnbp.build=pull-fails" });
    expect(pods.items).toEqual([]);
  });

  it("a step whose Pod cannot be scheduled fails after startTimeout naming the step and the scheduler's reason", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const driver = createDriver({ kubeconfig, helperImage: IMAGE, startTimeout: 2 });
    const ws = await driver.workspace({ buildId: "unschedulable", volumes: [{ name: "data" }] });
    try {
      const [claim] = (
        await core.listNamespacedPersistentVolumeClaim({
          namespace: NAMESPACE,
          labelSelector: "io.cnbp.build=unschedulable",
        })
      ).items;
      await core.deleteNamespacedPersistentVolumeClaim({
        name: claim?.metadata?.name ?? "",
        namespace: NAMESPACE,
      });
      const io = { stdout: { write: () => {} }, stderr: { write: () => {} } };
      const step = {
        image: IMAGE,
        cmd: ["/cnb/lifecycle/detector"],
        mounts: [{ type: "volume" as const, volume: "data", target: "/d" }],
      };
      expect(await rejection(ws.run(step, io))).toEqual({
        code: "CNBP_DRIVER_FAILED",
        message: `driver k8s: workspace.run: step /cnb/lifecycle/detector did not start within 2 s (Unschedulable: 0/1 nodes are available: persistentvolumeclaim "${claim?.metadata?.name}" not found.)`,
        hints: [
          'raise the driver\'s "startTimeout" option (seconds) if the cluster is slow to schedule or pull',
        ],
      });
    } finally {
      await ws.dispose();
    }
    expect(
      (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "io.cnbp.build=unschedulable" }))
        .items,
    ).toEqual([]);
  });

  it("a step running past stepTimeout is stopped by Kubernetes (activeDeadlineSeconds) and fails naming the step and DeadlineExceeded", async () => {
    const driver = createDriver({ kubeconfig, helperImage: IMAGE, stepTimeout: 3, splitLogs: true });
    const ws = await driver.workspace({ buildId: "deadline", volumes: [] });
    try {
      // the deadline may come before or after the container starts on a busy machine: the same error either way
      const step = { image: IMAGE, cmd: ["/bin/sh", "-c", "while :; do sleep 0.1; done"] };
      const io = { stdout: { write: () => {} }, stderr: { write: () => {} } };
      expect(await rejection(ws.run(step, io))).toEqual({
        code: "CNBP_DRIVER_FAILED",
        message:
          "driver k8s: workspace.run: step /bin/sh ran longer than the driver's stepTimeout: DeadlineExceeded: Pod was active on the node longer than the specified deadline",
        hints: ['raise the driver\'s "stepTimeout" option (seconds)'],
      });
    } finally {
      await ws.dispose();
    }
  });

  it("a step past the driver's memoryLimit is OOMKilled by the node and fails naming the step and the option", async () => {
    const driver = createDriver({ kubeconfig, helperImage: IMAGE, memoryLimit: "16Mi", splitLogs: true });
    const ws = await driver.workspace({ buildId: "oom", volumes: [] });
    try {
      // dd holds one 64 MiB block in memory, four times the limit
      const step = { image: IMAGE, cmd: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"] };
      const io = { stdout: { write: () => {} }, stderr: { write: () => {} } };
      expect(await rejection(ws.run(step, io))).toEqual({
        code: "CNBP_DRIVER_FAILED",
        message:
          "driver k8s: workspace.run: step dd was killed for using more memory than its limit (OOMKilled)",
        hints: ["raise the driver's \"memoryLimit\" option, or the namespace's LimitRange"],
      });
    } finally {
      await ws.dispose();
    }
  });

  it('a step with network "host" runs in the node\'s network namespace (hostNetwork)', async () => {
    const ws = await createDriver({ kubeconfig, helperImage: IMAGE }).workspace({
      buildId: "host-net",
      volumes: [],
    });
    const out: Buffer[] = [];
    try {
      const io = {
        stdout: { write: (c: Uint8Array) => out.push(Buffer.from(c)) },
        stderr: { write: () => {} },
      };
      const step = { image: IMAGE, cmd: ["/bin/readlink", "/proc/self/ns/net"], network: "host" as const };
      expect(await ws.run(step, io)).toEqual({ exitCode: 0 });
    } finally {
      await ws.dispose();
    }
    expect(Buffer.concat(out).toString()).toBe(`${readlinkSync("/proc/self/ns/net")}\n`);
  });
});
