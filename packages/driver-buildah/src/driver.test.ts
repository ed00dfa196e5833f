// Needs Buildah and Podman (scripts/engines/start.sh) and the busybox test stack (scripts/stacks/build.sh).
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DockerfileBuild, DriverError, StepIO } from "@cnbp/core";
import podman from "@cnbp/driver-podman";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import driver, { createDriver } from "./index.js";

const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";
const RUN = `buildah-test-${randomBytes(4).toString("hex")}`;
const LABEL = "io.cnbp.driver-buildah.test";
let dir: string;
const tags: string[] = [];

function collect() {
  const out: Buffer[] = [];
  const io: StepIO = {
    stdout: { write: (c) => out.push(Buffer.from(c)) },
    stderr: { write: (c) => out.push(Buffer.from(c)) },
  };
  return { io, text: () => Buffer.concat(out).toString() };
}

/** A request for `lines` after `FROM ${base_image}`, tagged `localhost/<RUN>/<name>:1` and labelled alike. */
async function request(name: string, lines: readonly string[]): Promise<DockerfileBuild> {
  const dockerfile = join(dir, `${name}.Dockerfile`);
  await writeFile(dockerfile, ["ARG base_image", `FROM $${"{base_image}"}`, ...lines, ""].join("\n"));
  const tag = `localhost/${RUN}/${name}:1`;
  tags.push(tag);
  return {
    dockerfile,
    context: dir,
    buildArgs: { base_image: BUSYBOX, build_id: randomBytes(4).toString("hex") },
    baseImage: BUSYBOX,
    tag,
    pull: "never",
    labels: { [LABEL]: `${RUN}-${name}` },
  };
}

/** How many of the output's RUN steps ran rather than being taken from buildah's layer cache. */
const runStepsExecuted = (output: string) => {
  const lines = output.split("\n");
  return lines.filter(
    (l, i) => /^STEP \d+\/\d+: RUN /.test(l) && !lines[i + 1]?.startsWith("--> Using cache"),
  ).length;
};

/** The images (step images too: buildah labels them as well) of the request named `name`. */
const labelledImages = async (name: string) =>
  (await execa("buildah", ["images", "--all", "--quiet", "--filter", `label=${LABEL}=${RUN}-${name}`])).stdout
    .split("\n")
    .filter((l) => l !== "");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-buildah-test-"));
  await writeFile(join(dir, "greeting.txt"), `hello from ${RUN}\n`);
});

afterAll(async () => {
  for (const tag of tags) await driver.images.remove(tag, { force: true });
  await rm(dir, { recursive: true, force: true });
});

describe("buildah driver", () => {
  it("info names buildah and the same image store as the Podman driver, which shares it", async () => {
    const [info, podmanInfo] = await Promise.all([driver.info(), podman.info()]);
    expect(info).toEqual({
      engine: "buildah",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      os: "linux",
      arch: podmanInfo.arch,
      rootless: driver.capabilities.rootless,
      imageStore: podmanInfo.imageStore,
    });
    expect(info.imageStore).toMatch(/^containers-storage:\/\S+$/);
    expect(driver.capabilities.sharesImageStoreWith).toEqual(["podman"]);
    expect(podman.capabilities.sharesImageStoreWith).toEqual(["buildah"]);
  });

  it("inspects a stack image as the Podman driver does, with some of the repo digests Podman knows", async () => {
    const [mine, theirs] = await Promise.all([
      driver.images.inspect(BUSYBOX),
      podman.images.inspect(BUSYBOX),
    ]);
    if (!mine || !theirs) throw new Error(`${BUSYBOX} is missing: run scripts/stacks/build.sh`);
    const comparable = (i: typeof mine) => ({ ...i, tags: [...i.tags].sort(), repoDigests: [] });
    expect(comparable(mine)).toEqual(comparable(theirs));
    // buildah's CLI shows two of an image's manifest digests (Podman lists them all), in every repository it is named in
    const repos = new Set(mine.tags.map((t) => t.replace(/:[^:/]*$/, "")));
    expect(mine.repoDigests.length).toBeGreaterThanOrEqual(repos.size);
    for (const repo of repos)
      expect(mine.repoDigests.some((d) => d.startsWith(`${repo}@sha256:`))).toBe(true);
    expect(theirs.repoDigests).toEqual(expect.arrayContaining([...mine.repoDigests]));
  });

  it("a rebuild of the same Dockerfile runs no RUN step again, and Podman runs the image without moving it", async () => {
    // ENV makes the steps this run's own: the store may keep another run's cached steps of the same Dockerfile
    const lines = [
      "USER 0",
      `ENV CACHED=${RUN}`,
      "RUN echo ran-$((6*7)) | tee /ran.txt",
      "COPY greeting.txt /greeting.txt",
    ];
    const first = collect();
    const built = await driver.build(await request("cached-a", lines), first.io);
    expect(first.text()).toContain("ran-42");
    expect(runStepsExecuted(first.text())).toBe(1);
    const second = collect();
    const again = await driver.build(await request("cached-b", lines), second.io);
    expect(second.text()).not.toContain("ran-42");
    expect(runStepsExecuted(second.text())).toBe(0);
    // another label makes another config, on the very same layers
    expect(again.id).not.toBe(built.id);
    const layers = async (ref: string) => (await driver.images.inspect(ref))?.diffIds;
    expect(await layers(again.image)).toEqual(await layers(built.image));
    await using ws = await podman.workspace({ buildId: RUN, volumes: [] });
    const out = collect();
    const step = { image: again.image, cmd: ["/bin/sh", "-c", "cat /ran.txt /greeting.txt"] };
    expect(await ws.run(step, out.io)).toEqual({ exitCode: 0 });
    expect(out.text()).toBe(`ran-42\nhello from ${RUN}\n`);
  });

  it("a build failing after committed steps leaves none of their cached images", async () => {
    const req = await request("failing", ["USER 0", `ENV UNIQUE=${RUN}`, "RUN exit 3"]);
    const c = collect();
    const err = await driver.build(req, c.io).then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect(err?.code).toBe("CNBP_BUILD_FAILED");
    expect(err?.message).toBe(`driver buildah: build: buildah bud of ${req.tag} failed`);
    expect(err?.hints.at(-1)).toBe(
      'Error: building at STEP "RUN exit 3": while running runtime: exit status 3',
    );
    // the ENV step is new to the store, so buildah committed it as a step image before the RUN failed
    expect(c.text()).toContain(`STEP 3/5: ENV UNIQUE=${RUN}\nSTEP 4/5: RUN exit 3\n`);
    expect(await driver.images.inspect(req.tag)).toBeUndefined();
    expect(await labelledImages("failing")).toEqual([]);
  });

  it("a build cancelled after committed steps leaves none of their cached images, nor its working container", async () => {
    const req = await request("cancelled", [
      "USER 0",
      `ENV UNIQUE=${RUN}`,
      "RUN echo started-$((6*7)) && sleep 60",
    ]);
    const ac = new AbortController();
    const out: Buffer[] = [];
    const sink = { write: (c: Uint8Array) => out.push(Buffer.from(c)) };
    const building = driver.build(req, { stdout: sink, stderr: sink, signal: ac.signal });
    while (!Buffer.concat(out).toString().includes("started-42")) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(building).rejects.toMatchObject({
      code: "CNBP_CANCELLED",
      message: "driver buildah: build: cancelled",
    });
    expect(Buffer.concat(out).toString()).toContain(`STEP 3/5: ENV UNIQUE=${RUN}\nSTEP 4/5: RUN `);
    // the RUN's working container was made from the ENV step's image, which cannot go while a container uses it
    expect(await labelledImages("cancelled")).toEqual([]);
  });

  it("leaves alone the step images another build, labelled otherwise, left while it ran", async () => {
    const req = await request("narrow-a", [`ENV A=${RUN}`, "RUN echo started-$((6*7)) && sleep 60"]);
    const ac = new AbortController();
    const out: Buffer[] = [];
    const sink = { write: (c: Uint8Array) => out.push(Buffer.from(c)) };
    const building = driver.build(req, { stdout: sink, stderr: sink, signal: ac.signal });
    while (!Buffer.concat(out).toString().includes("started-42")) await new Promise((r) => setTimeout(r, 50));
    // another build, straight through buildah, fails after committing its ENV step, and keeps that image
    const other = await request("narrow-b", [`ENV B=${RUN}`, "RUN exit 4"]);
    const args = ["bud", "--layers", "--force-rm", "--pull=never", "--build-arg", `base_image=${BUSYBOX}`];
    args.push("--label", `${LABEL}=${RUN}-narrow-b`, "-f", other.dockerfile, "-t", other.tag, dir);
    expect((await execa("buildah", args, { reject: false })).exitCode).toBe(4);
    const kept = await labelledImages("narrow-b");
    expect(kept.length).toBeGreaterThan(0);
    ac.abort();
    await expect(building).rejects.toMatchObject({ code: "CNBP_CANCELLED" });
    expect(await labelledImages("narrow-a")).toEqual([]);
    expect(await labelledImages("narrow-b")).toEqual(kept);
    await execa("buildah", ["rmi", ...kept]);
  });

  it("without the step cache, a failing build whose second stage is built on its first leaves no image", async () => {
    const req = await request("no-step-cache", []);
    const from = `FROM $${"{base_image}"}`;
    const stages = [`${from} AS one`, "USER 0", `RUN echo ${RUN} > /one.txt`, "FROM one", "RUN exit 5"];
    await writeFile(req.dockerfile, ["ARG base_image", ...stages, ""].join("\n"));
    const c = collect();
    await expect(driver.build({ ...req, stepCache: false }, c.io)).rejects.toMatchObject({
      code: "CNBP_BUILD_FAILED",
      message: `driver buildah: build: buildah bud of ${req.tag} failed`,
    });
    expect(c.text()).toContain("[2/2] STEP 2/3: RUN exit 5\n");
    expect(await driver.images.inspect(req.tag)).toBeUndefined();
    expect(await labelledImages("no-step-cache")).toEqual([]);
  });

  it("exports an image by id as an OCI layout, and names an absent id", async () => {
    const built = await driver.build(await request("exported", [`LABEL unique=${RUN}`]), collect().io);
    const stored = await driver.images.inspect(built.id);
    const layout = join(dir, "exported-layout");
    await driver.images.exportOciLayout(built.id, layout, { name: "exported" });
    const blob = async (digest: string) =>
      JSON.parse(await readFile(join(layout, "blobs", "sha256", digest.slice(7)), "utf8"));
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(index.manifests.map((m: { annotations: object }) => m.annotations)).toEqual([
      { "org.opencontainers.image.ref.name": "exported" },
    ]);
    const manifest = await blob(index.manifests[0].digest);
    expect(manifest.config.digest).toBe(built.id);
    // skopeo compresses the layers, one per diff ID
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(
      stored?.diffIds.map(() => "application/vnd.oci.image.layer.v1.tar+gzip"),
    );

    const absent = `sha256:${"0".repeat(64)}`;
    await expect(driver.images.exportOciLayout(absent, join(dir, "absent-layout"))).rejects.toMatchObject({
      code: "CNBP_IMAGE_NOT_FOUND",
      message: `driver buildah: images.exportOciLayout: no image "${absent}"`,
    });
  });

  it('the "isolation" option reaches RUN steps: "chroot" shares the host\'s PID namespace, buildah\'s default does not', async () => {
    // prints pid-1 in a PID namespace of its own, pid-0 in the host's (the step line shows the expression)
    // the ENV keeps the second build from taking the first one's RUN from the layer cache
    const lines = (isolation: string) => [`ENV ISOLATION=${isolation}`, `RUN echo ${RUN} pid-$(( $$ == 1 ))`];
    const own = collect();
    await driver.build(await request("isolated-oci", lines("default")), own.io);
    expect(own.text()).toContain(`${RUN} pid-1\n`);
    const chroot = collect();
    const isolated = createDriver({ isolation: "chroot" });
    await isolated.build(await request("isolated-chroot", lines("chroot")), chroot.io);
    expect(chroot.text()).toContain(`${RUN} pid-0\n`);
  });

  it("says which executable it tried when buildah cannot run", async () => {
    const missing = createDriver({ bin: join(dir, "no-buildah") });
    const err = await missing.info().then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect(err?.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err?.message).toMatch(
      new RegExp(`^driver buildah: info: cannot run ${join(dir, "no-buildah")}: `),
    );
    expect(err?.hints).toEqual([
      `tried the buildah executable "${join(dir, "no-buildah")}"; install Buildah or set the driver's "bin" option`,
    ]);
    await expect(missing.build(await request("never", []), collect().io)).rejects.toMatchObject({
      code: "CNBP_DRIVER_UNAVAILABLE",
    });
  });
});
