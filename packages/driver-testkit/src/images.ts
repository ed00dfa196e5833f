/**
 * The image store suite: what the doc comments of `ImageStore` (@cnbp/core drivers/contract.ts) require,
 * checked on the kit's own test image (./test-image.ts), imported from an OCI layout or, for a driver that
 * cannot import layouts, pulled from the `registry` option. A registry-only driver (capabilities.registryOnly)
 * gets the tests of a store that is its registries instead of those of a local store.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { OciLayout, type RuntimeDriver, sha256Digest } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import type { ImageSource } from "./image-source.js";
import { pushTestImage } from "./registry.js";
import { expectDriverError, type ScratchDirs } from "./support.js";
import { type TestImage, testImage, writeTestImage } from "./test-image.js";

export interface ImageSuite {
  readonly name: string;
  /** The suite run's id: in every name and label the suite makes. */
  readonly run: string;
  readonly scratch: ScratchDirs;
  readonly driver: () => RuntimeDriver;
  /** The architecture of the engine (EngineInfo.arch), which the test image is made for. */
  readonly arch: () => string;
  /** References the suite made, removed (forced) after it. */
  readonly made: Set<string>;
  /** Where the test image comes from, decided by the driver's capabilities when the suite is declared. */
  readonly source: ImageSource;
}

export interface ImageStoreOptions {
  /**
   * A registry (`host:port`, plain HTTP on loopback) the suite may push to and the driver pull from, e.g.
   * "127.0.0.1:5000". With it, `pull` from a registry is tested; without it those tests are not declared.
   * A driver whose `capabilities.ociLayoutImport` is false, or whose `capabilities.registryOnly` is true,
   * needs it: its test image comes from there.
   */
  readonly registry?: string;
}

/** Declares the image store tests inside the caller's describe (the driver exists once its beforeAll ran). */
export function imageStoreTests(s: ImageSuite, options: ImageStoreOptions): void {
  const ref = (variant: string, tag = "1") => {
    const r = `localhost/cnbp-driver-testkit/${s.run}-${variant}:${tag}`;
    s.made.add(r);
    return r;
  };
  const images = () => s.driver().images;
  const caps = () => s.driver().capabilities;
  const { source } = s;
  /** A reference no store has: in the registry that is the store for a registry-only driver. */
  const absent =
    source.kind === "registry"
      ? `${source.registry}/cnbp-driver-testkit/${s.run}-absent:1`
      : `localhost/cnbp-driver-testkit/${s.run}-absent:1`;

  /** Puts test image `variant` into the store; resolves to the reference the store knows it by. */
  const load = async (variant: string): Promise<{ image: TestImage; tag: string }> => {
    const image = testImage(s.run, variant, s.arch());
    if (source.kind === "registry") {
      const remote = `${source.registry}/cnbp-driver-testkit/${s.run}-${variant}:1`;
      await pushTestImage(remote, image);
      return { image, tag: remote };
    }
    const tag = ref(variant);
    if (source.kind === "layout") {
      const dir = await s.scratch.make();
      await writeTestImage(dir, image);
      await images().importOciLayout(dir, { tag });
    } else {
      const remote = `${source.registry}/cnbp-driver-testkit/${s.run}-${variant}:1`;
      await pushTestImage(remote, image);
      s.made.add(remote);
      await images().pull(remote, { policy: "always" });
      await images().tag(remote, tag);
      // the tests count the image's references: it must have only the kit's own, as after an import
      await images().remove(remote);
    }
    return { image, tag };
  };

  /** What a store must report for test image `image`. */
  const expected = (image: TestImage) => ({
    id: image.id,
    os: "linux",
    arch: s.arch(),
    labels: image.labels,
    env: image.env,
    user: image.user,
    diffIds: [image.diffId],
  });

  describe("images.importOciLayout", () => {
    it("loads the named image of a layout, whose id is its config digest, with its tag, labels, env, user and diff ids, and leaves the layout as it was", async () => {
      const one = testImage(s.run, "layout-one", s.arch());
      const two = testImage(s.run, "layout-two", s.arch());
      const dir = await s.scratch.make();
      await writeTestImage(dir, one, "one");
      const { configDigest } = await writeTestImage(dir, two, "two");
      const tag = ref("imported");
      if (!caps().ociLayoutImport) {
        await expectDriverError(
          images().importOciLayout(dir, { tag, image: "two" }),
          s.name,
          "CNBP_UNSUPPORTED",
        );
        return;
      }
      const before = await snapshot(dir);
      const stored = await images().importOciLayout(dir, { tag, image: "two" });
      expect(configDigest).toBe(two.id);
      expect(stored).toMatchObject(expected(two));
      expect(stored.tags).toContain(tag);
      expect(await images().inspect(tag)).toEqual(stored);
      expect(await images().inspect(one.id)).toBeUndefined();
      expect(await snapshot(dir)).toEqual(before);
    });

    it("loads the only image of a layout when no image is named, and refuses a name the layout lacks with CNBP_IMAGE_NOT_FOUND", async () => {
      const only = testImage(s.run, "layout-only", s.arch());
      const dir = await s.scratch.make();
      await writeTestImage(dir, only, "only");
      const tag = ref("only");
      if (!caps().ociLayoutImport) {
        await expectDriverError(images().importOciLayout(dir, { tag }), s.name, "CNBP_UNSUPPORTED");
        return;
      }
      await expectDriverError(
        images().importOciLayout(dir, { tag, image: "absent" }),
        s.name,
        "CNBP_IMAGE_NOT_FOUND",
      );
      expect(await images().inspect(tag)).toBeUndefined();
      expect((await images().importOciLayout(dir, { tag })).id).toBe(only.id);
    });
  });

  describe("images.inspect", () => {
    if (source.kind === "registry") {
      it("resolves to undefined for a reference its registry lacks or an id it never read; an image pushed to the registry is in the store before any pull, by its reference with its repo digest, and then by its id", async () => {
        const image = testImage(s.run, "inspected", s.arch());
        expect(await images().inspect(absent)).toBeUndefined();
        expect(await images().inspect(image.id)).toBeUndefined();
        const repo = `${source.registry}/cnbp-driver-testkit/${s.run}-inspected`;
        const digest = await pushTestImage(`${repo}:1`, image);
        const byRef = await images().inspect(`${repo}:1`);
        expect(byRef).toMatchObject(expected(image));
        expect(byRef?.tags).toContain(`${repo}:1`);
        expect(byRef?.repoDigests).toContain(`${repo}@${digest}`);
        // cnbp names an image it pulled by its id (its steps run the builder so), which no registry looks up
        expect(await images().inspect(image.id)).toEqual(byRef);
      });
      return;
    }
    it("resolves to undefined for an absent reference or id, and to the same image by tag and by id", async () => {
      expect(await images().inspect(absent)).toBeUndefined();
      expect(await images().inspect(sha256Digest(`absent ${s.run}`))).toBeUndefined();
      const { image, tag } = await load("inspected");
      const byTag = await images().inspect(tag);
      expect(byTag).toMatchObject(expected(image));
      expect(byTag?.tags).toContain(tag);
      expect(await images().inspect(image.id)).toEqual(byTag);
    });
  });

  describe("images.tag", () => {
    if (source.kind === "registry") {
      it("refuses with CNBP_UNSUPPORTED, a registry-only store having no references of its own, and makes no target", async () => {
        const { tag } = await load("tag-refused");
        const target = `${source.registry}/cnbp-driver-testkit/${s.run}-tag-target:1`;
        await expectDriverError(images().tag(tag, target), s.name, "CNBP_UNSUPPORTED");
        expect(await images().inspect(target)).toBeUndefined();
      });
      return;
    }

    it("adds a reference to an image, and moves a reference that named another image", async () => {
      const a = await load("tag-a");
      const b = await load("tag-b");
      const extra = ref("tag-extra");
      await images().tag(a.tag, extra);
      expect((await images().inspect(extra))?.id).toBe(a.image.id);
      expect((await images().inspect(a.image.id))?.tags).toEqual(expect.arrayContaining([a.tag, extra]));
      await images().tag(b.tag, extra);
      expect((await images().inspect(extra))?.id).toBe(b.image.id);
      const left = await images().inspect(a.tag);
      expect(left?.id).toBe(a.image.id);
      expect(left?.tags).not.toContain(extra);
    });

    it("refuses an absent source with CNBP_IMAGE_NOT_FOUND", async () => {
      const target = ref("tag-never");
      await expectDriverError(images().tag(absent, target), s.name, "CNBP_IMAGE_NOT_FOUND");
      expect(await images().inspect(target)).toBeUndefined();
    });
  });

  describe("images.exportOciLayout", () => {
    it("writes the image to a new layout under its name, keeps other images when another is added, and the layout imports back to the same id", async () => {
      const a = await load("export-a");
      const b = await load("export-b");
      const dir = join(await s.scratch.make(), "layout");
      if (!caps().ociLayoutExport) {
        await expectDriverError(images().exportOciLayout(a.tag, dir), s.name, "CNBP_UNSUPPORTED");
        return;
      }
      await images().exportOciLayout(a.tag, dir, { name: "contract-a" });
      await images().exportOciLayout(b.tag, dir);
      const layout = await OciLayout.open(dir);
      const entries = await layout.listImages();
      expect(entries.map((e) => e.ref)).toEqual(["contract-a", b.tag]);
      for (const [entry, image] of [
        [entries[0], a.image],
        [entries[1], b.image],
      ] as const) {
        if (!entry) throw new Error("unreachable");
        const manifest = await layout.readManifest(entry.descriptor);
        expect(manifest.config.digest).toBe(image.id);
        const config = await layout.readConfig(manifest.config);
        expect(config.config?.Labels).toEqual(image.labels);
        expect(config.rootfs.diff_ids).toEqual([image.diffId]);
      }
      if (caps().ociLayoutImport) {
        const back = ref("export-back");
        await images().remove(a.tag, { force: true });
        expect((await images().importOciLayout(dir, { tag: back, image: "contract-a" })).id).toBe(a.image.id);
      }
    });

    it("refuses an absent image with CNBP_IMAGE_NOT_FOUND and leaves the layout's index as it was", async () => {
      const dir = await s.scratch.make();
      await writeTestImage(dir, testImage(s.run, "export-kept", s.arch()), "kept");
      const index = await readFile(join(dir, "index.json"), "utf8");
      const code = caps().ociLayoutExport ? "CNBP_IMAGE_NOT_FOUND" : "CNBP_UNSUPPORTED";
      await expectDriverError(images().exportOciLayout(absent, dir), s.name, code);
      expect(await readFile(join(dir, "index.json"), "utf8")).toBe(index);
    });
  });

  describe("images.remove", () => {
    it("succeeds on an absent image", async () => {
      await expect(images().remove(absent)).resolves.toBeUndefined();
    });

    if (source.kind === "registry") {
      it("refuses to delete an image its registry has with CNBP_UNSUPPORTED, forced or not, and the image stays", async () => {
        const { image, tag } = await load("remove-refused");
        await expectDriverError(images().remove(tag), s.name, "CNBP_UNSUPPORTED");
        await expectDriverError(images().remove(tag, { force: true }), s.name, "CNBP_UNSUPPORTED");
        expect((await images().inspect(tag))?.id).toBe(image.id);
      });
      return;
    }

    it("removes one of two references and keeps the image, then the image with its last reference", async () => {
      const { image, tag } = await load("removed");
      const second = ref("removed-second");
      await images().tag(tag, second);
      await images().remove(tag);
      expect(await images().inspect(tag)).toBeUndefined();
      const kept = await images().inspect(second);
      expect(kept?.id).toBe(image.id);
      expect(kept?.tags).not.toContain(tag);
      await images().remove(second);
      expect(await images().inspect(image.id)).toBeUndefined();
    });

    it("with force removes the image even when other references name it", async () => {
      const { image, tag } = await load("forced");
      const second = ref("forced-second");
      await images().tag(tag, second);
      await images().remove(tag, { force: true });
      expect(await images().inspect(image.id)).toBeUndefined();
      expect(await images().inspect(second)).toBeUndefined();
    });
  });

  describe("images.pull", () => {
    if (source.kind === "registry")
      it(`with every policy resolves to the image ${source.registry} has, with its repo digest (the registry is the store), and refuses an absent one with CNBP_IMAGE_NOT_FOUND`, async () => {
        const image = testImage(s.run, "pull-registry", s.arch());
        const repo = `${source.registry}/cnbp-driver-testkit/${s.run}-pull-registry`;
        const digest = await pushTestImage(`${repo}:1`, image);
        for (const policy of ["never", "if-not-present", "always"] as const) {
          const pulled = await images().pull(`${repo}:1`, { policy });
          expect(pulled).toMatchObject(expected(image));
          expect(pulled.repoDigests).toContain(`${repo}@${digest}`);
        }
        await expectDriverError(images().pull(absent, { policy: "never" }), s.name, "CNBP_IMAGE_NOT_FOUND");
      });
    else
      it('with policy "never" resolves to an image in the store and refuses an absent one with CNBP_IMAGE_NOT_FOUND', async () => {
        const { image, tag } = await load("pull-never");
        expect(await images().pull(tag, { policy: "never" })).toMatchObject(expected(image));
        await expectDriverError(images().pull(absent, { policy: "never" }), s.name, "CNBP_IMAGE_NOT_FOUND");
        expect(await images().inspect(absent)).toBeUndefined();
      });

    it("throws CNBP_CANCELLED for an already aborted signal", async () => {
      const signal = AbortSignal.abort();
      await expectDriverError(images().pull(absent, { policy: "always", signal }), s.name, "CNBP_CANCELLED");
    });

    const registry = options.registry;
    if (registry) {
      if (source.kind !== "registry")
        it(`pulls an image pushed to ${registry}: its id, tag and repo digest; again with policy "always"`, async () => {
          const image = testImage(s.run, "pulled", s.arch());
          const repo = `${registry}/cnbp-driver-testkit/${s.run}-pulled`;
          const remote = `${repo}:1`;
          s.made.add(remote);
          const digest = await pushTestImage(remote, image);
          expect(await images().inspect(remote)).toBeUndefined();
          const pulled = await images().pull(remote);
          expect(pulled).toMatchObject(expected(image));
          expect(pulled.tags).toContain(remote);
          expect(pulled.repoDigests).toContain(`${repo}@${digest}`);
          expect(await images().inspect(remote)).toEqual(pulled);
          expect((await images().pull(remote, { policy: "always" })).id).toBe(image.id);
        });

      it(`refuses a tag ${registry} does not have with CNBP_IMAGE_NOT_FOUND and leaves no tag`, async () => {
        const image = testImage(s.run, "pull-absent", s.arch());
        const repo = `${registry}/cnbp-driver-testkit/${s.run}-pull-absent`;
        await pushTestImage(`${repo}:1`, image);
        const missing = `${repo}:absent`;
        await expectDriverError(images().pull(missing, { policy: "always" }), s.name, "CNBP_IMAGE_NOT_FOUND");
        expect(await images().inspect(missing)).toBeUndefined();
      });
    }
  });
}

/** Every file of `dir` with its content's digest, to show a layout was not changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files[path] = sha256Digest(await readFile(path));
    }
  return files;
}
