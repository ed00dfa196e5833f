/** The `Workspace.run` tests: output, exit codes, env and user, mounts, networks, aborts. */

import { randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { RuntimeDriver, VolumeSpec, Workspace } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import { collect, expectDriverError, type ScratchDirs, until } from "./support.js";
import { oneFileTar } from "./tar.js";

export interface WorkspaceSuite {
  readonly name: string;
  readonly run: string;
  /** An image with a POSIX shell that steps run. */
  readonly image: string;
  readonly scratch: ScratchDirs;
  readonly driver: () => RuntimeDriver;
  /** A workspace labelled for the suite, disposed after it. */
  readonly workspace: (volumes?: readonly VolumeSpec[]) => Promise<Workspace>;
}

/** How long an aborted step may take to end: SIGTERM is handled at once by the suite's steps. */
const CANCEL_BOUND_MS = 8_000;

export function runTests(s: WorkspaceSuite): void {
  const { image } = s;
  const sh = (script: string) => ["/bin/sh", "-c", script];
  const at = (volume: string, target = "/w") => ({ type: "volume" as const, volume, target });

  describe("workspace.run", () => {
    it("streams the step's stdout and stderr to their sinks, exactly and separately", async () => {
      const ws = await s.workspace();
      const c = collect();
      const r = await ws.run(
        { image, cmd: sh("printf 'one\\ntwo\\n'; printf 'oops\\n' >&2; printf 'three'") },
        c.io,
      );
      expect(r).toEqual({ exitCode: 0 });
      expect(c.out()).toBe("one\ntwo\nthree");
      expect(c.err()).toBe("oops\n");
    });

    it("delivers output while the step still runs: the step waits for a file the test puts after reading it", async () => {
      const ws = await s.workspace([{ name: "gate" }]);
      const c = collect();
      let settled = false;
      const running = ws
        .run(
          {
            image,
            cmd: sh("echo ready; echo warn >&2; while [ ! -f /w/go ]; do sleep 0.05; done; echo released"),
            mounts: [at("gate")],
          },
          c.io,
        )
        .finally(() => {
          settled = true;
        });
      await until(() => c.out() === "ready\n" && c.err() === "warn\n", "the step's first lines");
      expect(settled).toBe(false);
      await ws.put("gate", "/", Readable.from([oneFileTar("go", "")]));
      expect(await running).toEqual({ exitCode: 0 });
      expect(c.out()).toBe("ready\nreleased\n");
    });

    it("passes 1 MiB of binary output on each stream byte for byte", async () => {
      const ws = await s.workspace([{ name: "big" }]);
      const bytes = randomBytes(1024 * 1024);
      await ws.put("big", "/", Readable.from([oneFileTar("big.bin", bytes)]));
      const c = collect();
      const r = await ws.run(
        { image, cmd: sh("cat /w/big.bin; cat /w/big.bin >&2"), mounts: [at("big", "/w")] },
        c.io,
      );
      expect(r).toEqual({ exitCode: 0 });
      expect(c.stdout().equals(bytes)).toBe(true);
      expect(c.stderr().equals(bytes)).toBe(true);
    });

    it("resolves to a non-zero exit code instead of throwing", async () => {
      const ws = await s.workspace();
      const c = collect();
      const r = await ws.run({ image, cmd: sh("echo failing >&2; exit 7") }, c.io);
      expect(r).toEqual({ exitCode: 7 });
      expect(c.err()).toBe("failing\n");
    });

    it("refuses an image that is not in the store with CNBP_IMAGE_NOT_FOUND, without pulling it", async () => {
      const ws = await s.workspace();
      const absent = `localhost/cnbp-driver-testkit/${s.run}-absent:1`;
      await expectDriverError(
        ws.run({ image: absent, cmd: ["/bin/true"] }, collect().io),
        s.name,
        "CNBP_IMAGE_NOT_FOUND",
      );
      expect(await s.driver().images.inspect(absent)).toBeUndefined();
    });

    it("refuses a mount of a volume the workspace does not have with CNBP_UNKNOWN_VOLUME", async () => {
      const ws = await s.workspace([{ name: "data" }]);
      const step = { image, cmd: ["/bin/true"], mounts: [at("cache")] };
      await expectDriverError(ws.run(step, collect().io), s.name, "CNBP_UNKNOWN_VOLUME");
    });

    it("adds the step's env to the image's environment", async () => {
      const ws = await s.workspace();
      const c = collect();
      const r = await ws.run(
        {
          image,
          cmd: sh('printf "%s|%s|" "$CNBP_ONE" "$CNBP_TWO"; test -n "$PATH" && echo path'),
          env: { CNBP_ONE: "hello world", CNBP_TWO: "a=b;$c" },
        },
        c.io,
      );
      expect(r).toEqual({ exitCode: 0 });
      expect(c.out()).toBe("hello world|a=b;$c|path\n");
    });

    it("runs the step as its user uid:gid, in its working directory", async () => {
      const ws = await s.workspace();
      const c = collect();
      const r = await ws.run(
        { image, user: "1234:5678", workingDir: "/tmp", cmd: sh("id -u; id -g; pwd") },
        c.io,
      );
      expect(r).toEqual({ exitCode: 0 });
      expect(c.out()).toBe("1234\n5678\n/tmp\n");
    });

    it('with network "none" gives the step no network interface but lo', async () => {
      const ws = await s.workspace();
      const c = collect();
      const step = {
        image,
        network: "none" as const,
        cmd: sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"),
      };
      if (!s.driver().capabilities.networks.includes("none")) {
        await expectDriverError(ws.run(step, c.io), s.name, "CNBP_UNSUPPORTED");
        return;
      }
      expect(await ws.run(step, c.io)).toEqual({ exitCode: 0 });
      expect(c.out()).toBe("lo\n");
    });

    it("mounts a host directory, read-only when asked, when capabilities.bindMounts (else CNBP_UNSUPPORTED)", async () => {
      const ws = await s.workspace();
      const dir = await s.scratch.make();
      await writeFile(join(dir, "host.txt"), "from the host\n");
      const c = collect();
      const ro = { type: "bind" as const, source: dir, target: "/ro", readOnly: true };
      const rw = { type: "bind" as const, source: dir, target: "/rw" };
      const script =
        "cat /ro/host.txt; touch /ro/refused 2>/dev/null || echo refused; echo written > /rw/step.txt";
      const step = { image, user: "0", cmd: sh(script), mounts: [ro, rw] };
      if (!s.driver().capabilities.bindMounts) {
        await expectDriverError(ws.run(step, c.io), s.name, "CNBP_UNSUPPORTED");
        return;
      }
      expect(await ws.run(step, c.io)).toEqual({ exitCode: 0 });
      expect(c.out()).toBe("from the host\nrefused\n");
      expect((await readdir(dir)).sort()).toEqual(["host.txt", "step.txt"]);
      expect(await readFile(join(dir, "step.txt"), "utf8")).toBe("written\n");
    });

    it(`an abort mid-run stops the step and throws CNBP_CANCELLED within ${CANCEL_BOUND_MS / 1000} s; the workspace runs steps after it`, async () => {
      const ws = await s.workspace();
      const ac = new AbortController();
      const c = collect(ac.signal);
      // the trap makes the shell end on SIGTERM at once (a PID 1 without a handler ignores it)
      const script = "trap 'echo stopping; exit 143' TERM; echo started; while :; do sleep 0.1; done";
      const running = ws.run({ image, cmd: sh(script) }, c.io);
      await until(() => c.out() === "started\n", "the step to start");
      const t0 = Date.now();
      ac.abort();
      await expectDriverError(running, s.name, "CNBP_CANCELLED");
      expect(Date.now() - t0).toBeLessThan(CANCEL_BOUND_MS);
      const after = collect();
      expect(await ws.run({ image, cmd: sh("echo again") }, after.io)).toEqual({ exitCode: 0 });
      expect(after.out()).toBe("again\n");
    });

    it("throws CNBP_CANCELLED for an already aborted signal, without running the step", async () => {
      const ws = await s.workspace([{ name: "marks" }]);
      const c = collect(AbortSignal.abort());
      const step = { image, cmd: sh("touch /w/ran"), mounts: [at("marks")] };
      await expectDriverError(ws.run(step, c.io), s.name, "CNBP_CANCELLED");
      await expectDriverError(ws.get("marks", "/ran"), s.name, "CNBP_NOT_FOUND");
    });
  });
}
