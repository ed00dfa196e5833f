/**
 * The runtime driver contract suite: what the doc comments of `RuntimeDriver.workspace` and `Workspace`
 * (@cnbp/core drivers/contract.ts) require, checked against a real engine through the driver alone.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { type RuntimeDriver, readLayer, type StepIO, type Workspace, type WorkspaceSpec } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneFileTar } from "./tar.js";

/** The busybox run image of the test stacks (scripts/stacks/build.sh): has /bin/sh, cat, id, printf, stat. */
export const DEFAULT_TEST_IMAGE = "localhost/cnbp-stacks/busybox-run:latest";

export interface RuntimeContractOptions {
  /**
   * An image already in the driver's store (steps never pull) with a POSIX `/bin/sh`, `cat`, `id`, `stat` and
   * `printf`; default DEFAULT_TEST_IMAGE.
   */
  readonly image?: string;
}

/** Label put on every workspace the suite creates, valued with the suite run's id, for leak hunting. */
export const CONTRACT_LABEL = "io.cnbp.driver-testkit.run";

/** Collects a step's output; `out()`/`err()` are the bytes so far, decoded as UTF-8. */
function collect(): { io: StepIO; out: () => string; err: () => string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  return {
    io: {
      stdout: { write: (c) => out.push(Buffer.from(c)) },
      stderr: { write: (c) => err.push(Buffer.from(c)) },
    },
    out: () => Buffer.concat(out).toString(),
    err: () => Buffer.concat(err).toString(),
  };
}

/** Settles `p` to the error it rejects with, failing the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<{ code?: unknown; message?: unknown }> {
  return p.then(
    (v) => expect.fail(`expected a rejection, got ${JSON.stringify(v)}`),
    (e: unknown) => e as { code?: unknown; message?: unknown },
  );
}

/**
 * Declares, in the calling vitest file, the tests every RuntimeDriver must pass. `factory` makes the driver
 * under test (once, before the tests); the driver is disposed after them, and every workspace the suite
 * creates is disposed even when a test fails.
 */
export function runtimeDriverContract(
  name: string,
  factory: () => Promise<RuntimeDriver> | RuntimeDriver,
  options: RuntimeContractOptions = {},
): void {
  const image = options.image ?? DEFAULT_TEST_IMAGE;
  const run = `contract-${randomBytes(4).toString("hex")}`;
  let n = 0;
  let driver: RuntimeDriver | undefined;
  const opened: Workspace[] = [];

  const workspace = async (volumes: WorkspaceSpec["volumes"] = []): Promise<Workspace> => {
    if (!driver) throw new Error(`driver-testkit: the ${name} driver factory did not run`);
    const ws = await driver.workspace({
      buildId: `${run}-${++n}`,
      volumes,
      labels: { [CONTRACT_LABEL]: run },
    });
    opened.push(ws);
    return ws;
  };

  describe(`${name}: runtime driver contract`, () => {
    beforeAll(async () => {
      driver = await factory();
    });

    afterAll(async () => {
      for (const ws of opened) await ws.dispose({ removePersistent: true });
      await driver?.[Symbol.asyncDispose]();
    });

    describe("workspace.run", () => {
      it("streams the step's stdout and stderr to their sinks, exactly and separately", async () => {
        const ws = await workspace();
        const c = collect();
        const r = await ws.run(
          { image, cmd: ["/bin/sh", "-c", "printf 'one\\ntwo\\n'; printf 'oops\\n' >&2; printf 'three'"] },
          c.io,
        );
        expect(r).toEqual({ exitCode: 0 });
        expect(c.out()).toBe("one\ntwo\nthree");
        expect(c.err()).toBe("oops\n");
      });

      it("resolves to a non-zero exit code instead of throwing", async () => {
        const ws = await workspace();
        const c = collect();
        const r = await ws.run({ image, cmd: ["/bin/sh", "-c", "echo failing >&2; exit 7"] }, c.io);
        expect(r).toEqual({ exitCode: 7 });
        expect(c.err()).toBe("failing\n");
      });

      it("refuses an image that is not in the store with CNBP_IMAGE_NOT_FOUND, without pulling it", async () => {
        const ws = await workspace();
        if (!driver) throw new Error("unreachable");
        const absent = `localhost/cnbp-driver-testkit/${run}-absent:1`;
        const err = await rejection(ws.run({ image: absent, cmd: ["/bin/true"] }, collect().io));
        expect(err.code).toBe("CNBP_IMAGE_NOT_FOUND");
        expect(String(err.message)).toMatch(new RegExp(`^driver ${driver.name}: `));
        expect(await driver.images.inspect(absent)).toBeUndefined();
      });

      it("adds the step's env to the image's environment", async () => {
        const ws = await workspace();
        const c = collect();
        const r = await ws.run(
          {
            image,
            cmd: ["/bin/sh", "-c", 'printf "%s|%s|" "$CNBP_ONE" "$CNBP_TWO"; test -n "$PATH" && echo path'],
            env: { CNBP_ONE: "hello world", CNBP_TWO: "a=b;$c" },
          },
          c.io,
        );
        expect(r).toEqual({ exitCode: 0 });
        expect(c.out()).toBe("hello world|a=b;$c|path\n");
      });

      it("runs the step as its user uid:gid", async () => {
        const ws = await workspace();
        const c = collect();
        const r = await ws.run({ image, user: "1234:5678", cmd: ["/bin/sh", "-c", "id -u; id -g"] }, c.io);
        expect(r).toEqual({ exitCode: 0 });
        expect(c.out()).toBe("1234\n5678\n");
      });
    });

    describe("workspace.put and workspace.get", () => {
      it("round-trips a file: put extracts it with its mode and owner, a step reads it, get returns it", async () => {
        const ws = await workspace([{ name: "data" }]);
        const content = `contract ${run}\nsecond line\n`;
        await ws.put(
          "data",
          "/in/dir",
          Readable.from([oneFileTar("file.txt", content, { mode: 0o640, uid: 1234, gid: 5678 })]),
        );
        const c = collect();
        const r = await ws.run(
          {
            image,
            user: "0",
            cmd: ["/bin/sh", "-c", "stat -c '%u:%g %a' /mnt/in/dir/file.txt; cat /mnt/in/dir/file.txt"],
            mounts: [{ type: "volume", volume: "data", target: "/mnt" }],
          },
          c.io,
        );
        expect(c.err()).toBe("");
        expect(r).toEqual({ exitCode: 0 });
        expect(c.out()).toBe(`1234:5678 640\n${content}`);
        const entries: [string, string][] = [];
        for await (const e of readLayer(await ws.get("data", "/in/dir/file.txt")))
          entries.push([e.name.replace(/^\.\//, ""), (await e.bytes()).toString()]);
        expect(entries).toEqual([["file.txt", content]]);
      });
    });

    describe("workspace.dispose", () => {
      it("is idempotent, and afterwards run, put and get throw CNBP_WORKSPACE_DISPOSED", async () => {
        const ws = await workspace([{ name: "data" }]);
        await ws.dispose();
        await ws.dispose();
        await ws[Symbol.asyncDispose]();
        const after = [
          ws.run({ image, cmd: ["/bin/true"] }, collect().io),
          ws.put("data", "/x", Readable.from([oneFileTar("x", "x")])),
          ws.get("data", "/x"),
        ];
        for (const p of after) expect((await rejection(p)).code).toBe("CNBP_WORKSPACE_DISPOSED");
      });
    });
  });
}
