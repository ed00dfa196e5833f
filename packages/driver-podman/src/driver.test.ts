// Needs Podman (scripts/engines/start.sh) and the busybox test stack (scripts/stacks/build.sh).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type DriverError, readLayer } from "@cnbp/core";
import { collect, oneFileTar } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import driver, { BUILD_LABEL } from "./index.js";
import { SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

// the API service in a directory of this file's own, so that it ends with the tests
const serviceDir = await mkdtemp(join(tmpdir(), "cnbp-podman-service-"));
process.env[SERVICE_DIR_ENV] = serviceDir;
afterAll(async () => {
  stopOwnServices();
  await rm(serviceDir, { recursive: true, force: true });
});

const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";
const RUN = `podman-test-${randomBytes(4).toString("hex")}`;
let n = 0;
const buildId = () => `${RUN}-${++n}`;

const podmanLines = async (args: string[]) =>
  (await execa("podman", args)).stdout.split("\n").filter((l) => l !== "");
const byBuild = (id: string) => ["--filter", `label=${BUILD_LABEL}=${id}`];

afterAll(async () => {
  const vols = await podmanLines(["volume", "ls", "-q", "--filter", `label=${BUILD_LABEL}`]);
  const ours = vols.filter((v) => v.includes(RUN));
  if (ours.length) await execa("podman", ["volume", "rm", "--force", ...ours]);
  await execa("podman", ["rmi", "--force", `localhost/${RUN}/built:1`], { reject: false });
});

describe("podman driver", () => {
  it("runs a command in the busybox image and captures stdout and stderr exactly", async () => {
    await using ws = await driver.workspace({ buildId: buildId(), volumes: [] });
    const c = collect();
    const r = await ws.run({ image: BUSYBOX, cmd: ["/bin/sh", "-c", "echo hello; echo oops >&2"] }, c.io);
    expect(r).toEqual({ exitCode: 0 });
    expect(c.out()).toBe("hello\n");
    expect(c.err()).toBe("oops\n");
  });

  it("returns a non-zero exit code instead of throwing, and removes the container", async () => {
    const id = buildId();
    await using ws = await driver.workspace({ buildId: id, volumes: [] });
    const r = await ws.run({ image: BUSYBOX, cmd: ["/bin/sh", "-c", "exit 7"] }, collect().io);
    expect(r).toEqual({ exitCode: 7 });
    expect(await podmanLines(["ps", "-a", "-q", "--filter", `name=cnbp-${id}-step`])).toEqual([]);
  });

  it("refuses an image that is not in the store with CNBP_IMAGE_NOT_FOUND", async () => {
    await using ws = await driver.workspace({ buildId: buildId(), volumes: [] });
    const err = await ws.run({ image: `localhost/${RUN}/absent:1`, cmd: ["/bin/true"] }, collect().io).then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect(err?.code).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(err?.message).toBe(`driver podman: workspace.run: no image "localhost/${RUN}/absent:1"`);
  });

  it("puts a file into a volume, a step reads it, and get returns it named relative to the parent", async () => {
    await using ws = await driver.workspace({ buildId: buildId(), volumes: [{ name: "app" }] });
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
        cmd: ["/bin/sh", "-c", "stat -c '%u:%g %a' /w/src/dir/hello.txt; cat /w/src/dir/hello.txt"],
        mounts: [{ type: "volume", volume: "app", target: "/w" }],
      },
      c.io,
    );
    expect(r.exitCode).toBe(0);
    expect(c.out()).toBe("1234:5678 644\nhi there\n");
    const entries: [string, string][] = [];
    for await (const e of readLayer(await ws.get("app", "/src/dir/hello.txt")))
      entries.push([e.name, (await e.bytes()).toString()]);
    expect(entries).toEqual([["hello.txt", "hi there\n"]]);
    await expect(ws.get("app", "/nope")).rejects.toMatchObject({ code: "CNBP_NOT_FOUND" });
    await expect(ws.get("cache", "/x")).rejects.toMatchObject({ code: "CNBP_UNKNOWN_VOLUME" });
  });

  it("dispose removes the workspace's volumes and helper, keeping the ones asked", async () => {
    const id = buildId();
    const ws = await driver.workspace({ buildId: id, volumes: [{ name: "a" }, { name: "b" }] });
    expect((await podmanLines(["volume", "ls", "-q", ...byBuild(id)])).length).toBe(2);
    await ws.dispose({ keep: ["b"] });
    const left = await podmanLines(["volume", "ls", "-q", ...byBuild(id)]);
    expect(left.length).toBe(1);
    expect(left[0]).toMatch(new RegExp(`^cnbp-${id}-b-[0-9a-f]{8}$`));
    expect(await podmanLines(["ps", "-a", "-q", ...byBuild(id)])).toEqual([]);
    await ws.dispose();
    await expect(ws.run({ image: BUSYBOX, cmd: ["/bin/true"] }, collect().io)).rejects.toMatchObject({
      code: "CNBP_WORKSPACE_DISPOSED",
    });
    await execa("podman", ["volume", "rm", left[0] as string]);
  });

  it("an abort mid-run stops the step, throws CNBP_CANCELLED and leaves no container", async () => {
    const id = buildId();
    await using ws = await driver.workspace({ buildId: id, volumes: [] });
    const ac = new AbortController();
    const c = collect(ac.signal);
    const running = ws.run({ image: BUSYBOX, cmd: ["/bin/sh", "-c", "echo started; exec sleep 60"] }, c.io);
    while (!c.out().includes("started")) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    ac.abort();
    await expect(running).rejects.toMatchObject({ code: "CNBP_CANCELLED" });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await podmanLines(["ps", "-a", "-q", ...byBuild(id)]).then((l) => l.length)).toBe(1); // the helper
    expect(await podmanLines(["ps", "-a", "-q", "--filter", `name=cnbp-${id}-step`])).toEqual([]);
  });

  it("builds a two-line Dockerfile FROM the busybox image, and the result runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnbp-podman-test-"));
    const tag = `localhost/${RUN}/built:1`;
    try {
      await writeFile(
        join(dir, "Dockerfile"),
        ["ARG base_image", "FROM $" + "{base_image}", "ENV GREETING=built", ""].join("\n"),
      );
      const built = await driver.build(
        {
          dockerfile: join(dir, "Dockerfile"),
          context: dir,
          buildArgs: {},
          baseImage: BUSYBOX,
          tag,
          pull: "never",
        },
        collect().io,
      );
      expect(built.image).toBe(tag);
      expect(built.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await driver.images.inspect(tag))?.id).toBe(built.id);
      await using ws = await driver.workspace({ buildId: buildId(), volumes: [] });
      const c = collect();
      expect(await ws.run({ image: tag, cmd: ["/bin/sh", "-c", "echo $GREETING"] }, c.io)).toEqual({
        exitCode: 0,
      });
      expect(c.out()).toBe("built\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
