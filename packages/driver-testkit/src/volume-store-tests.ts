/** The tests of `RuntimeDriver.volumes`: persistent volumes found by their labels, and removed by name. */
import { Readable } from "node:stream";
import type { VolumeInfo } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import type { WorkspaceSuite } from "./run-tests.js";
import { CONTRACT_LABEL, collect, expectDriverError, until } from "./support.js";
import { oneFileTar } from "./tar.js";

/** A label of the suite's own volumes, so a filter of two labels is tested. */
const KIND_LABEL = "io.cnbp.driver-testkit.kind";

export function volumeStoreTests(s: WorkspaceSuite): void {
  const volumes = () => s.driver().volumes;
  const ours = (kind: string) => volumes().list({ labels: { [CONTRACT_LABEL]: s.run, [KIND_LABEL]: kind } });
  const names = (list: readonly VolumeInfo[]) => list.map((v) => v.name).sort();

  describe("volumes", () => {
    it("list finds a persistent volume a workspace made by all of the labels asked for, with its workspace's and its own labels, until remove removes it", async () => {
      const name = `cnbp-driver-testkit-${s.run}-listed`;
      const content = "cached bytes\n".repeat(100);
      const before = Date.now();
      const ws = await s.workspace([
        { name: "cache", persistentName: name, labels: { [KIND_LABEL]: "listed" } },
        { name: "temp" },
      ]);
      await ws.put("cache", "/", Readable.from([oneFileTar("cached.txt", content)]));
      await ws.dispose();

      const [listed, ...more] = await ours("listed");
      expect(more).toEqual([]);
      expect(listed?.name).toBe(name);
      expect(listed?.labels).toMatchObject({ [CONTRACT_LABEL]: s.run, [KIND_LABEL]: "listed" });
      if (listed?.createdAt !== undefined) {
        expect(listed.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
        // engine and test clocks are one machine's, but engines round: a minute either way
        expect(Date.parse(listed.createdAt)).toBeGreaterThan(before - 60_000);
        expect(Date.parse(listed.createdAt)).toBeLessThan(Date.now() + 60_000);
      }
      if (listed?.sizeBytes !== undefined) expect(listed.sizeBytes).toBeGreaterThanOrEqual(content.length);
      if (listed?.inUse !== undefined) expect(listed.inUse).toBe(false);
      // every label must match: the suite's run label alone also finds it, another kind or run does not
      expect(names(await volumes().list({ labels: { [CONTRACT_LABEL]: s.run } }))).toContain(name);
      expect(await ours("other")).toEqual([]);
      expect(names(await volumes().list({ labels: { [CONTRACT_LABEL]: `${s.run}-other` } }))).toEqual([]);

      await volumes().remove(name);
      expect(await ours("listed")).toEqual([]);
      await volumes().remove(name);
    });

    it("remove of a volume that does not exist succeeds", async () => {
      await volumes().remove(`cnbp-driver-testkit-${s.run}-never-made`);
    });

    it("a volume a running step uses is in use: remove throws CNBP_VOLUME_IN_USE and keeps it; once the workspace is disposed it goes", async () => {
      const name = `cnbp-driver-testkit-${s.run}-busy`;
      const ws = await s.workspace([
        { name: "cache", persistentName: name, labels: { [KIND_LABEL]: "busy" } },
      ]);
      const ac = new AbortController();
      const c = collect(ac.signal);
      const script = "trap 'exit 143' TERM; echo started; while :; do sleep 0.1; done";
      const running = ws.run(
        {
          image: s.image,
          cmd: ["/bin/sh", "-c", script],
          mounts: [{ type: "volume", volume: "cache", target: "/w" }],
        },
        c.io,
      );
      try {
        await until(() => c.out() === "started\n", "the step to start");
        const [busy] = await ours("busy");
        expect(busy?.name).toBe(name);
        if (busy?.inUse !== undefined) expect(busy.inUse).toBe(true);
        await expectDriverError(volumes().remove(name), s.name, "CNBP_VOLUME_IN_USE");
        expect(names(await ours("busy"))).toEqual([name]);
      } finally {
        ac.abort();
        await running.catch(() => {});
      }
      await ws.dispose();
      const [idle] = await ours("busy");
      if (idle?.inUse !== undefined) expect(idle.inUse).toBe(false);
      await volumes().remove(name);
      expect(await ours("busy")).toEqual([]);
    });
  });
}
