/**
 * The runtime driver contract suite: what the doc comments of `RuntimeDriver`, `ImageStore` and `Workspace`
 * (@cnbp/core drivers/contract.ts) require, checked against a real engine through the driver alone.
 */
import { randomBytes } from "node:crypto";
import type { RuntimeDriver, VolumeSpec, Workspace } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ImageSource, imageSource } from "./image-source.js";
import { type ImageStoreOptions, imageStoreTests } from "./images.js";
import { runTests } from "./run-tests.js";
import { CONTRACT_LABEL, DEFAULT_TEST_IMAGE, type LeakLister, ScratchDirs } from "./support.js";
import { volumeStoreTests } from "./volume-store-tests.js";
import { volumeTests } from "./volume-tests.js";

export interface RuntimeContractOptions extends ImageStoreOptions {
  /**
   * An image already in the driver's store (steps never pull; for a registry-only driver, a reference in a
   * registry it pulls from) with a POSIX `/bin/sh`, `cat`, `id`, `stat`, `printf`, `find`, `tail`, `cut` and
   * `tr`; default DEFAULT_TEST_IMAGE.
   */
  readonly image?: string;
  /**
   * Lists what the engine still holds from the suite (see LeakLister); with it, the suite's last test
   * cleans up and asserts that nothing carrying CONTRACT_LABEL is left. Without it, that test is not declared.
   */
  readonly leaks?: LeakLister;
}

type Factory = () => Promise<RuntimeDriver> | RuntimeDriver;

/**
 * Declares, in the calling vitest file, every test a RuntimeDriver must pass: `info`, `workspace.run`,
 * put/get, volumes, dispose, `volumes.list/remove`, and the image store (imageStoreContract). `factory` makes
 * the driver under test once, while vitest collects the file (its capabilities decide which tests are
 * declared: a registry-only driver gets those of a store that is its registries); the driver is disposed
 * after the tests, and every workspace and image the suite creates is removed even when a test fails.
 */
export function runtimeDriverContract(
  name: string,
  factory: Factory,
  options: RuntimeContractOptions = {},
): void {
  declareSuite(`${name}: runtime driver contract`, name, factory, options, (s) => {
    it("info names the engine, its version and the platform steps run on", async () => {
      const info = await s.driver().info();
      expect(info).toMatchObject({
        engine: expect.stringMatching(/\S/),
        version: expect.stringMatching(/\S/),
        os: "linux",
        arch: expect.stringMatching(/^[a-z0-9]+$/),
        rootless: s.driver().capabilities.rootless,
        imageStore: expect.stringMatching(/\S/),
      });
    });
    runTests(s);
    volumeTests(s);
    volumeStoreTests(s);
    imageStoreTests(s, options);
  });
}

/** Declares only the image store tests of runtimeDriverContract (which already includes them). */
export function imageStoreContract(
  name: string,
  factory: Factory,
  options: RuntimeContractOptions = {},
): void {
  declareSuite(`${name}: image store contract`, name, factory, options, (s) => imageStoreTests(s, options));
}

type Suite = Parameters<typeof runTests>[0] & Parameters<typeof imageStoreTests>[0];
type SuiteBase = Omit<Suite, "source">;

function declareSuite(
  title: string,
  name: string,
  factory: Factory,
  options: RuntimeContractOptions,
  declare: (s: Suite) => void,
): void {
  const run = `contract-${randomBytes(4).toString("hex")}`;
  let n = 0;
  let driver: RuntimeDriver | undefined;
  let arch = "";
  const opened: Workspace[] = [];
  const made = new Set<string>();
  const scratch = new ScratchDirs();
  const the = (): RuntimeDriver => {
    if (!driver) throw new Error(`driver-testkit: the ${name} driver factory did not run`);
    return driver;
  };
  const base: SuiteBase = {
    name,
    run,
    image: options.image ?? DEFAULT_TEST_IMAGE,
    scratch,
    made,
    driver: the,
    arch: () => arch,
    workspace: async (volumes: readonly VolumeSpec[] = []) => {
      const ws = await the().workspace({
        buildId: `${run}-${++n}`,
        volumes,
        labels: { [CONTRACT_LABEL]: run },
      });
      opened.push(ws);
      return ws;
    },
  };
  const cleanUp = async () => {
    for (const ws of opened.splice(0)) await ws.dispose({ removePersistent: true });
    for (const ref of made) await driver?.images.remove(ref, { force: true });
    await scratch.removeAll();
  };

  // vitest awaits an async describe while it collects: the driver's capabilities are known before declaring
  describe(title, async () => {
    const created = await factory();
    driver = created;
    let source: ImageSource;
    try {
      source = imageSource(name, created.capabilities, options.registry);
    } catch (err) {
      await created[Symbol.asyncDispose]();
      throw err;
    }

    beforeAll(async () => {
      arch = (await the().info()).arch;
    });

    afterAll(async () => {
      await cleanUp();
      await driver?.[Symbol.asyncDispose]();
    });

    declare({ ...base, source });

    const leaks = options.leaks;
    if (leaks)
      it(`leaves no container, volume or image labelled ${CONTRACT_LABEL} behind`, async () => {
        await cleanUp();
        expect(await leaks({ label: CONTRACT_LABEL, value: run, images: [...made] })).toEqual([]);
      });
  });
}
