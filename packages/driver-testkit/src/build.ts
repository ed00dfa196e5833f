/**
 * The build driver contract suite: what the doc comment of `BuildDriver.build` (@cnbp/core
 * drivers/contract.ts) requires, checked by building small Dockerfiles on a real engine.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BuildDriver, DockerfileBuild, ImageStore, RuntimeDriver, StepIO } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACT_LABEL,
  collect,
  DEFAULT_TEST_IMAGE,
  expectDriverError,
  type LeakLister,
  ScratchDirs,
  until,
} from "./support.js";

export interface BuildContractOptions {
  /**
   * The image the Dockerfiles build `FROM`, already in the store the driver builds into, with a POSIX
   * `/bin/sh`, `cat`, `echo` and `sleep`; default DEFAULT_TEST_IMAGE.
   */
  readonly baseImage?: string;
  /**
   * The store the suite inspects built images in and removes them through; default the driver's own
   * `images` (BuildDriver.images). A driver that is also a RuntimeDriver has its workspaces run the built
   * image to check its files.
   */
  readonly images?: Pick<ImageStore, "inspect" | "remove">;
  /**
   * Lists what the engine still holds from the suite (see LeakLister); with it, every build test asserts
   * no container (intermediate ones included) or image of the suite is left after the build, failed or not.
   */
  readonly leaks?: LeakLister;
}

/** Label of the suite's own base image (not CONTRACT_LABEL: the base is meant to stay until the end). */
const BASE_LABEL = "io.cnbp.driver-testkit.base";

/** How long an aborted build may take to end. */
const CANCEL_BOUND_MS = 15_000;

/** The Dockerfile head every build uses: the contract's `FROM ${base_image}`. */
const FROM = ["ARG base_image", `FROM $${"{base_image}"}`];

const isRuntime = (d: BuildDriver): d is BuildDriver & RuntimeDriver => "images" in d && "workspace" in d;

/**
 * Declares, in the calling vitest file, the tests every BuildDriver must pass. `factory` makes the driver
 * under test once; built images and the suite's files are removed after the tests.
 */
export function buildDriverContract(
  name: string,
  factory: () => Promise<BuildDriver> | BuildDriver,
  options: BuildContractOptions = {},
): void {
  const run = `contract-${randomBytes(4).toString("hex")}`;
  const scratch = new ScratchDirs();
  const made = new Set<string>();
  let driver: BuildDriver | undefined;
  let store: Pick<ImageStore, "inspect" | "remove"> | undefined;
  /** The base image made anew by this run (its own id), so containers a build leaves from it are the suite's. */
  const base = `localhost/cnbp-driver-testkit/${run}-base:1`;
  let n = 0;

  const the = () => {
    if (!driver || !store) throw new Error(`driver-testkit: the ${name} driver factory did not run`);
    return { driver, store };
  };
  /** Writes `lines` as a Dockerfile outside a context holding `greeting.txt`; the request tags a fresh name. */
  const request = async (lines: readonly string[], extra: Partial<DockerfileBuild> = {}) => {
    const dir = await scratch.make();
    const context = join(dir, "context");
    await mkdir(context);
    await writeFile(join(context, "greeting.txt"), `hello from ${run}\n`);
    await writeFile(join(dir, "Dockerfile"), [...FROM, ...lines, ""].join("\n"));
    const tag = `localhost/cnbp-driver-testkit/${run}-built-${++n}:1`;
    const req: DockerfileBuild = {
      dockerfile: join(dir, "Dockerfile"),
      context,
      buildArgs: { base_image: base },
      baseImage: base,
      tag,
      pull: "never",
      labels: { [CONTRACT_LABEL]: run },
      ...extra,
    };
    made.add(req.tag);
    return req;
  };
  const noLeaks = async () => {
    if (options.leaks)
      expect(await options.leaks({ label: CONTRACT_LABEL, value: run, images: [base, ...made] })).toEqual([]);
  };
  const build = (req: DockerfileBuild, io: StepIO) => the().driver.build(req, io);

  describe(`${name}: build driver contract`, () => {
    beforeAll(async () => {
      driver = await factory();
      store = options.images ?? driver.images;
      const req = await request([], { baseImage: options.baseImage ?? DEFAULT_TEST_IMAGE, tag: base });
      const own = { ...req, buildArgs: { base_image: req.baseImage }, labels: { [BASE_LABEL]: run } };
      await driver.build(own, collect().io);
    });

    afterAll(async () => {
      for (const ref of [...made].reverse()) await store?.remove(ref);
      await scratch.removeAll();
      await driver?.[Symbol.asyncDispose]();
    });

    it("builds FROM the base_image arg with the build args, context files and labels, stores the result under the tag and streams the output", async () => {
      const req = await request(
        [
          "ARG greeting",
          "COPY greeting.txt /contract/greeting.txt",
          "ENV CONTRACT_GREETING=$greeting",
          "USER 0",
          "RUN echo built-by-run-step && echo $greeting > /contract/arg.txt",
        ],
        {
          buildArgs: { base_image: base, greeting: "hi there" },
          labels: { [CONTRACT_LABEL]: run, "io.cnbp.driver-testkit.built": "yes" },
        },
      );
      const c = collect();
      const built = await build(req, c.io);
      expect(built).toEqual({ image: req.tag, id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
      expect(`${c.out()}${c.err()}`).toContain("built-by-run-step");
      const stored = await the().store.inspect(req.tag);
      expect(stored?.id).toBe(built.id);
      expect(stored?.labels).toMatchObject({ [CONTRACT_LABEL]: run, "io.cnbp.driver-testkit.built": "yes" });
      expect(stored?.env).toContain("CONTRACT_GREETING=hi there");
      const d = the().driver;
      if (isRuntime(d)) {
        await using ws = await d.workspace({
          buildId: `${run}-files`,
          volumes: [],
          labels: { [CONTRACT_LABEL]: run },
        });
        const files = collect();
        const step = {
          image: req.tag,
          cmd: ["/bin/sh", "-c", "cat /contract/greeting.txt /contract/arg.txt"],
        };
        expect(await ws.run(step, files.io)).toEqual({ exitCode: 0 });
        expect(files.out()).toBe(`hello from ${run}\nhi there\n`);
      }
      await the().store.remove(req.tag);
      await noLeaks();
    });

    it("throws CNBP_BUILD_FAILED for a failing RUN, with the engine's last lines in its hints, and leaves no image", async () => {
      const req = await request(["RUN echo contract-failure-marker >&2 && exit 3"]);
      const c = collect();
      const err = await expectDriverError(build(req, c.io), name, "CNBP_BUILD_FAILED");
      expect((err.hints as string[]).join("\n")).toContain("contract-failure-marker");
      expect(`${c.out()}${c.err()}`).toContain("contract-failure-marker");
      expect(await the().store.inspect(req.tag)).toBeUndefined();
      await noLeaks();
    });

    it(`an abort mid-build throws CNBP_CANCELLED within ${CANCEL_BOUND_MS / 1000} s and leaves no container or image`, async () => {
      // the marker is computed so that only the running step prints it (engines echo the RUN line first)
      const req = await request(["RUN echo contract-build-$((6*7)) && sleep 60"]);
      const ac = new AbortController();
      const c = collect(ac.signal);
      const building = build(req, c.io);
      await until(
        () => `${c.out()}${c.err()}`.includes("contract-build-42"),
        "the build's RUN to start",
        60_000,
      );
      const t0 = Date.now();
      ac.abort();
      await expectDriverError(building, name, "CNBP_CANCELLED");
      expect(Date.now() - t0).toBeLessThan(CANCEL_BOUND_MS);
      expect(await the().store.inspect(req.tag)).toBeUndefined();
      await noLeaks();
    });

    it("throws CNBP_CANCELLED for an already aborted signal, building nothing", async () => {
      const req = await request(["RUN echo never"]);
      await expectDriverError(build(req, collect(AbortSignal.abort()).io), name, "CNBP_CANCELLED");
      expect(await the().store.inspect(req.tag)).toBeUndefined();
    });
  });
}
