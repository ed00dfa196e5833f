// Needs Docker and the local registry (scripts/engines/start.sh) and the busybox test stack loaded into Docker
// and pushed to the registry (scripts/stacks/build.sh).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type DriverError, readLayer } from "@cnbp/core";
import { collect, oneFileTar } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import driver, { BUILD_LABEL, createDriver } from "./index.js";

const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";
const REGISTRY_BUSYBOX = "127.0.0.1:5000/cnbp-stacks/busybox-run:latest";
const RUN = `docker-test-${randomBytes(4).toString("hex")}`;
let n = 0;
const buildId = () => `${RUN}-${++n}`;

const dockerLines = async (args: string[]) =>
  (await execa("docker", args)).stdout.split("\n").filter((l) => l !== "");
const byBuild = (id: string) => ["--filter", `label=${BUILD_LABEL}=${id}`];
const rejection = (p: Promise<unknown>) =>
  p.then(
    (v) => expect.fail(`expected a rejection, got ${JSON.stringify(v)}`),
    (e: DriverError) => e,
  );
/** The containers a build's output says it ran ("Running in <id>"). */
const stepContainers = (output: string) =>
  [...output.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]);
const allContainers = () => dockerLines(["ps", "-a", "-q"]);

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "cnbp-docker-test-"));
  dirs.push(dir);
  return dir;
};

afterAll(async () => {
  const vols = await dockerLines(["volume", "ls", "-q", "--filter", `label=${BUILD_LABEL}`]);
  const ours = vols.filter((v) => v.includes(RUN));
  if (ours.length) await execa("docker", ["volume", "rm", "--force", ...ours]);
  const images = await dockerLines(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
  const mine = images.filter((i) => i.includes(RUN));
  if (mine.length) await execa("docker", ["rmi", "--force", ...mine]);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("docker driver: engine", () => {
  it("says which engine it is, on which socket", async () => {
    const version = (await execa("docker", ["version", "--format", "{{.Server.Version}}"])).stdout;
    expect(await driver.info()).toEqual({
      engine: "docker",
      version,
      os: "linux",
      arch: "amd64",
      rootless: false,
      imageStore: "docker:unix:///var/run/docker.sock",
    });
    expect(driver.capabilities).toEqual({
      rootless: false,
      sharesImageStoreWith: [],
      ociLayoutImport: true,
      ociLayoutExport: true,
      bindMounts: true,
      networks: ["default", "none", "host"],
      registryOnly: false,
    });
  });

  it("throws CNBP_DRIVER_UNAVAILABLE naming the socket it tried when no engine answers", async () => {
    const dir = await tempDir();
    const socket = join(dir, "docker.sock");
    const err = await rejection(createDriver({ host: `unix://${socket}` }).info());
    expect(err.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err.message).toBe(
      `driver docker: info: cannot reach the Docker Engine at unix://${socket}: connect ENOENT ${socket}`,
    );
    expect(err.hints).toEqual([
      `tried unix://${socket} (from the host option); start the Docker daemon, or point DOCKER_HOST or the driver's "host" option at it`,
    ]);
  });
});

describe("docker driver: workspaces", () => {
  it("returns a non-zero exit code instead of throwing, and removes the container", async () => {
    const id = buildId();
    await using ws = await driver.workspace({ buildId: id, volumes: [] });
    const c = collect();
    const r = await ws.run(
      { image: BUSYBOX, cmd: ["/bin/sh", "-c", "echo out; echo err >&2; exit 7"] },
      c.io,
    );
    expect(r).toEqual({ exitCode: 7 });
    expect([c.out(), c.err()]).toEqual(["out\n", "err\n"]);
    expect(await dockerLines(["ps", "-a", "-q", "--filter", `name=cnbp-${id}-step`])).toEqual([]);
  });

  it("refuses an image that is not in the store with CNBP_IMAGE_NOT_FOUND", async () => {
    await using ws = await driver.workspace({ buildId: buildId(), volumes: [] });
    const err = await rejection(
      ws.run({ image: `localhost/${RUN}/absent:1`, cmd: ["/bin/true"] }, collect().io),
    );
    expect(err.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(err.message).toBe(`driver docker: workspace.run: no image "localhost/${RUN}/absent:1"`);
  });

  it("puts a file into a new directory of a volume owned by its owner, and get returns it", async () => {
    await using ws = await driver.workspace({
      buildId: buildId(),
      volumes: [{ name: "app", owner: "1000:1001" }],
    });
    await ws.put(
      "app",
      "/src/dir",
      Readable.from([oneFileTar("hello.txt", "hi there\n", { uid: 1234, gid: 5678 })]),
    );
    const c = collect();
    const r = await ws.run(
      {
        image: BUSYBOX,
        user: "0",
        cmd: ["/bin/sh", "-c", "cd /w && stat -c '%n %u:%g %a' . src src/dir src/dir/hello.txt"],
        mounts: [{ type: "volume", volume: "app", target: "/w" }],
      },
      c.io,
    );
    expect(r.exitCode).toBe(0);
    expect(c.out()).toBe(
      ". 1000:1001 755\nsrc 1000:1001 755\nsrc/dir 1000:1001 755\nsrc/dir/hello.txt 1234:5678 644\n",
    );
    const entries: [string, string][] = [];
    for await (const e of readLayer(await ws.get("app", "/src/dir/hello.txt")))
      entries.push([e.name, (await e.bytes()).toString()]);
    expect(entries).toEqual([["hello.txt", "hi there\n"]]);
    await expect(ws.get("app", "/nope")).rejects.toMatchObject({
      code: "CNBP_NOT_FOUND",
      message: 'driver docker: workspace.get: no "app:/nope"',
    });
    await expect(ws.get("cache", "/x")).rejects.toMatchObject({ code: "CNBP_UNKNOWN_VOLUME" });
  });

  it("dispose removes the workspace's volumes and helper, keeping the ones asked", async () => {
    const id = buildId();
    const ws = await driver.workspace({ buildId: id, volumes: [{ name: "a" }, { name: "b" }] });
    expect((await dockerLines(["volume", "ls", "-q", ...byBuild(id)])).length).toBe(2);
    expect((await dockerLines(["ps", "-a", "-q", ...byBuild(id)])).length).toBe(1);
    await ws.dispose({ keep: ["b"] });
    const left = await dockerLines(["volume", "ls", "-q", ...byBuild(id)]);
    expect(left).toEqual([expect.stringMatching(new RegExp(`^cnbp-${id}-b-[0-9a-f]{8}$`))]);
    expect(await dockerLines(["ps", "-a", "-q", ...byBuild(id)])).toEqual([]);
    await execa("docker", ["volume", "rm", left[0] as string]);
  });

  it("an abort mid-run stops the step, throws CNBP_CANCELLED and leaves no container", async () => {
    const id = buildId();
    await using ws = await driver.workspace({ buildId: id, volumes: [] });
    const ac = new AbortController();
    const c = collect(ac.signal);
    // sh ignores SIGTERM as pid 1: the stop must end in SIGKILL after the grace
    const running = ws.run(
      { image: BUSYBOX, cmd: ["/bin/sh", "-c", "echo started; while true; do sleep 1; done"] },
      c.io,
    );
    while (!c.out().includes("started")) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    ac.abort();
    await expect(running).rejects.toMatchObject({
      code: "CNBP_CANCELLED",
      message: "driver docker: workspace.run: cancelled",
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await dockerLines(["ps", "-a", "-q", "--filter", `name=cnbp-${id}-step`])).toEqual([]);
  });
});

describe("docker driver: images", () => {
  it("exports an image to an OCI layout and imports it back under another tag with the same id", async () => {
    const dir = join(await tempDir(), "layout");
    const original = await driver.images.inspect(BUSYBOX);
    await driver.images.exportOciLayout(BUSYBOX, dir, { name: "busybox" });
    const tag = `localhost/${RUN}/imported:1`;
    const imported = await driver.images.importOciLayout(dir, { tag, image: "busybox" });
    // the busybox run image is shared with the e2e tests, which may tag or pull it meanwhile: compare the
    // image itself, and that the new tag names it
    const { tags: _t, repoDigests: _r, ...same } = original ?? { tags: [], repoDigests: [] };
    expect(imported).toMatchObject(same);
    expect(imported.tags).toContain(tag);
    expect(imported.env).toContain("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    expect(imported.user).toBe("1001:1000");
    const missing = await rejection(driver.images.importOciLayout(dir, { tag, image: "nope" }));
    expect(missing.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(missing.message).toBe(
      `driver docker: images.importOciLayout: ${dir}: no image "nope" in the layout`,
    );
  });

  it("tags and removes: a reference moves, removing an absent image succeeds, an absent source is CNBP_IMAGE_NOT_FOUND", async () => {
    const tag = `localhost/${RUN}/tagged:1`;
    await driver.images.tag(BUSYBOX, tag);
    expect((await driver.images.inspect(tag))?.id).toBe((await driver.images.inspect(BUSYBOX))?.id);
    await driver.images.remove(tag);
    expect(await driver.images.inspect(tag)).toBeUndefined();
    expect(await driver.images.inspect(BUSYBOX)).toBeDefined();
    await driver.images.remove(tag);
    const err = await rejection(driver.images.tag(`localhost/${RUN}/absent:1`, tag));
    expect(err.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(err.message).toBe(`driver docker: images.tag: no image "localhost/${RUN}/absent:1"`);
  });

  it("pulls from the plain-HTTP local registry by policy", async () => {
    // the same image under a local-only name in the registry's namespace: the registry has no such repository
    const localOnly = `127.0.0.1:5000/${RUN}/local-only:1`;
    await driver.images.tag(BUSYBOX, localOnly);
    expect((await driver.images.pull(localOnly)).tags).toContain(localOnly);
    const always = await rejection(driver.images.pull(localOnly, { policy: "always" }));
    expect(always.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(always.message).toMatch(
      new RegExp(`^driver docker: images.pull: pulling ${localOnly}: .*not found`),
    );
    await driver.images.remove(localOnly);
    const never = await rejection(driver.images.pull(localOnly, { policy: "never" }));
    expect(never.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(never.message).toBe(`driver docker: images.pull: no image "${localOnly}"`);

    const hadIt = await driver.images.inspect(REGISTRY_BUSYBOX);
    try {
      const pulled = await driver.images.pull(REGISTRY_BUSYBOX, { policy: "always" });
      expect(pulled.tags).toContain(REGISTRY_BUSYBOX);
      expect(pulled.repoDigests).toEqual([
        expect.stringMatching(/^127\.0\.0\.1:5000\/cnbp-stacks\/busybox-run@sha256:[0-9a-f]{64}$/),
      ]);
      expect(pulled.labels["io.buildpacks.base.distro.name"]).toBe("busybox");
    } finally {
      if (!hadIt) await driver.images.remove(REGISTRY_BUSYBOX);
    }
  });
});

describe("docker driver: build", () => {
  const dockerfile = async (lines: string[]) => {
    const dir = await tempDir();
    await writeFile(join(dir, "Dockerfile"), [...lines, ""].join("\n"));
    return join(dir, "Dockerfile");
  };

  it("builds a Dockerfile outside its context FROM the base_image arg, with labels, and the result runs", async () => {
    const context = await tempDir();
    await writeFile(join(context, "greeting.txt"), "built\n");
    const file = await dockerfile([
      "ARG base_image",
      "FROM $" + "{base_image}",
      "ARG build_id",
      "COPY greeting.txt /greeting.txt",
      'RUN echo "$build_id" > /tmp/build-id',
    ]);
    const tag = `localhost/${RUN}/built:1`;
    const c = collect();
    const built = await driver.build(
      {
        dockerfile: file,
        context,
        buildArgs: { build_id: RUN },
        baseImage: BUSYBOX,
        tag,
        pull: "never",
        labels: { "io.cnbp.test": RUN },
      },
      c.io,
    );
    expect(built.image).toBe(tag);
    expect(built.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const img = await driver.images.inspect(tag);
    expect(img?.id).toBe(built.id);
    expect(img?.labels["io.cnbp.test"]).toBe(RUN);
    expect(c.out()).toContain("Step 3/6 : ARG build_id");
    const containers = await allContainers();
    for (const id of stepContainers(c.out())) expect(containers).not.toContain(id);
    await using ws = await driver.workspace({ buildId: buildId(), volumes: [] });
    const r = collect();
    expect(await ws.run({ image: tag, cmd: ["/bin/cat", "/greeting.txt", "/tmp/build-id"] }, r.io)).toEqual({
      exitCode: 0,
    });
    expect(r.out()).toBe(`built\n${RUN}\n`);
  });

  it("a failing step throws CNBP_BUILD_FAILED with the engine's last lines, leaving no container", async () => {
    const file = await dockerfile([
      "ARG base_image",
      "FROM $" + "{base_image}",
      `ENV FAILING=${RUN}`,
      "RUN echo broken >&2; exit 3",
    ]);
    const c = collect();
    const err = await rejection(
      driver.build(
        {
          dockerfile: file,
          context: await tempDir(),
          buildArgs: {},
          baseImage: BUSYBOX,
          tag: `localhost/${RUN}/failed:1`,
        },
        c.io,
      ),
    );
    expect(err.code).toBe("CNBP_BUILD_FAILED");
    expect(err.message).toBe(
      `driver docker: build: docker build of localhost/${RUN}/failed:1 failed: The command '/bin/sh -c echo broken >&2; exit 3' returned a non-zero code: 3`,
    );
    expect(c.err()).toBe(
      "broken\nThe command '/bin/sh -c echo broken >&2; exit 3' returned a non-zero code: 3\n",
    );
    expect(err.hints).toContain("broken");
    expect(err.hints.at(-1)).toBe(
      "The command '/bin/sh -c echo broken >&2; exit 3' returned a non-zero code: 3",
    );
    expect(await driver.images.inspect(`localhost/${RUN}/failed:1`)).toBeUndefined();
    const containers = await allContainers();
    const ran = stepContainers(c.out());
    expect(ran.length).toBe(2);
    for (const id of ran) expect(containers).not.toContain(id);
    // the image the ENV step committed is gone too
    const committed = /ENV FAILING=\S+\n(?:.*\n)*? ---> ([0-9a-f]{12})\n/.exec(c.out())?.[1];
    expect(committed).toMatch(/^[0-9a-f]{12}$/);
    expect(await driver.images.inspect(committed as string)).toBeUndefined();
  });

  it("refuses a base image absent from the store when the pull policy is never", async () => {
    const file = await dockerfile(["ARG base_image", "FROM $" + "{base_image}"]);
    const absent = `localhost/${RUN}/absent:1`;
    const err = await rejection(
      driver.build(
        {
          dockerfile: file,
          context: await tempDir(),
          buildArgs: {},
          baseImage: absent,
          tag: `localhost/${RUN}/x:1`,
          pull: "never",
        },
        collect().io,
      ),
    );
    expect(err.code).toBe("CNBP_BUILD_FAILED");
    expect(err.message).toBe(`driver docker: build: no base image "${absent}"`);
  });

  it("an abort stops the build, throws CNBP_CANCELLED and leaves no container", async () => {
    const file = await dockerfile([
      "ARG base_image",
      "FROM $" + "{base_image}",
      "RUN echo run''ning; sleep 60",
    ]);
    const ac = new AbortController();
    const c = collect(ac.signal);
    const tag = `localhost/${RUN}/cancelled:1`;
    const building = driver.build(
      { dockerfile: file, context: await tempDir(), buildArgs: {}, baseImage: BUSYBOX, tag },
      c.io,
    );
    while (!c.out().includes("running\n")) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    ac.abort();
    await expect(building).rejects.toMatchObject({
      code: "CNBP_CANCELLED",
      message: "driver docker: build: cancelled",
    });
    expect(Date.now() - t0).toBeLessThan(15_000);
    const ran = stepContainers(c.out());
    expect(ran.length).toBe(1);
    const containers = await allContainers();
    for (const id of ran) expect(containers).not.toContain(id);
    expect(await driver.images.inspect(tag)).toBeUndefined();
  });
});
