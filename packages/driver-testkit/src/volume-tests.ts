/** The tests of files in volumes: put and get, isolation between workspaces, persistence, owners, dispose. */
import { Readable } from "node:stream";
import { readLayer } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import type { WorkspaceSuite } from "./run-tests.js";
import { collect, expectDriverError } from "./support.js";
import { oneFileTar, tarOf } from "./tar.js";

export function volumeTests(s: WorkspaceSuite): void {
  const { image } = s;
  const at = (volume: string, target = "/w") => ({ type: "volume" as const, volume, target });
  /** Runs `script` as root with `volume` at /w; resolves to its stdout, failing on a non-zero exit. */
  const shell = async (
    ws: Awaited<ReturnType<typeof s.workspace>>,
    volume: string,
    script: string,
    user = "0",
  ) => {
    const c = collect();
    const r = await ws.run({ image, user, cmd: ["/bin/sh", "-c", script], mounts: [at(volume)] }, c.io);
    expect({ exitCode: r.exitCode, stderr: c.err() }).toEqual({ exitCode: 0, stderr: "" });
    return c.out();
  };
  const files = async (stream: Readable) => {
    const entries: [string, string][] = [];
    for await (const e of readLayer(stream))
      entries.push([e.name.replace(/^\.\//, ""), (await e.bytes()).toString()]);
    return entries;
  };

  describe("workspace.put and workspace.get", () => {
    it("round-trips a file: put extracts it with its mode and owner, a step reads it, get returns it", async () => {
      const ws = await s.workspace([{ name: "data" }]);
      const content = `contract ${s.run}\nsecond line\n`;
      await ws.put(
        "data",
        "/in/dir",
        Readable.from([oneFileTar("file.txt", content, { mode: 0o640, uid: 1234, gid: 5678 })]),
      );
      expect(await shell(ws, "data", "stat -c '%u:%g %a' /w/in/dir/file.txt; cat /w/in/dir/file.txt")).toBe(
        `1234:5678 640\n${content}`,
      );
      expect(await files(await ws.get("data", "/in/dir/file.txt"))).toEqual([["file.txt", content]]);
    });

    it("refuses a tar with an entry that escapes the path with CNBP_UNSAFE_PATH, extracting nothing", async () => {
      const ws = await s.workspace([{ name: "data" }]);
      const tar = tarOf([
        { name: "fine.txt", content: "fine\n" },
        { name: "../escaped.txt", content: "escaped\n" },
      ]);
      await expectDriverError(ws.put("data", "/in", Readable.from([tar])), s.name, "CNBP_UNSAFE_PATH");
      expect(await shell(ws, "data", "find /w -mindepth 1")).toBe("");
    });

    it("refuses a path that is not absolute or climbs out of the volume with CNBP_UNSAFE_PATH, in put and get", async () => {
      const ws = await s.workspace([{ name: "data" }]);
      const tar = () => Readable.from([oneFileTar("file.txt", "content\n")]);
      for (const path of ["in", "/in/../../etc", "/.."]) {
        await expectDriverError(ws.put("data", path, tar()), s.name, "CNBP_UNSAFE_PATH");
        await expectDriverError(ws.get("data", path), s.name, "CNBP_UNSAFE_PATH");
      }
      expect(await shell(ws, "data", "find /w -mindepth 1")).toBe("");
    });

    it("refuses a missing path with CNBP_NOT_FOUND and a volume the workspace lacks with CNBP_UNKNOWN_VOLUME", async () => {
      const ws = await s.workspace([{ name: "data" }]);
      await expectDriverError(ws.get("data", "/absent"), s.name, "CNBP_NOT_FOUND");
      await expectDriverError(ws.get("cache", "/x"), s.name, "CNBP_UNKNOWN_VOLUME");
      await expectDriverError(
        ws.put("cache", "/x", Readable.from([oneFileTar("x", "x")])),
        s.name,
        "CNBP_UNKNOWN_VOLUME",
      );
    });
  });

  describe("workspace volumes", () => {
    it("are the workspace's own: two workspaces with a same-named volume do not see each other's files", async () => {
      const one = await s.workspace([{ name: "data" }]);
      const two = await s.workspace([{ name: "data" }]);
      await one.put("data", "/", Readable.from([oneFileTar("one.txt", "one\n")]));
      await two.put("data", "/", Readable.from([oneFileTar("two.txt", "two\n")]));
      expect(await shell(one, "data", "ls -A /w")).toBe("one.txt\n");
      expect(await shell(two, "data", "ls -A /w")).toBe("two.txt\n");
    });

    it("get their root owned by VolumeSpec.owner, so a step of that user writes there", async () => {
      const ws = await s.workspace([{ name: "owned", owner: "1234:5678" }]);
      expect(await shell(ws, "owned", "stat -c '%u:%g' /w; touch /w/mine && echo written", "1234:5678")).toBe(
        "1234:5678\nwritten\n",
      );
    });

    it("with a persistentName keep their content across workspaces and dispose, until disposed with removePersistent", async () => {
      const cache = { name: "cache", persistentName: `cnbp-driver-testkit-${s.run}-cache` };
      const first = await s.workspace([cache, { name: "temp" }]);
      await first.put("cache", "/", Readable.from([oneFileTar("cached.txt", "cached\n")]));
      await first.dispose();
      const second = await s.workspace([cache]);
      expect(await shell(second, "cache", "cat /w/cached.txt")).toBe("cached\n");
      await second.dispose({ removePersistent: true });
      const third = await s.workspace([cache]);
      expect(await shell(third, "cache", "ls -A /w")).toBe("");
      await third.dispose({ removePersistent: true });
    });
  });

  describe("workspace.dispose", () => {
    it("is idempotent, and afterwards run, put and get throw CNBP_WORKSPACE_DISPOSED", async () => {
      const ws = await s.workspace([{ name: "data" }]);
      await ws.dispose();
      await ws.dispose();
      await ws[Symbol.asyncDispose]();
      const after = [
        ws.run({ image, cmd: ["/bin/true"] }, collect().io),
        ws.put("data", "/x", Readable.from([oneFileTar("x", "x")])),
        ws.get("data", "/x"),
      ];
      for (const p of after) await expectDriverError(p, s.name, "CNBP_WORKSPACE_DISPOSED");
    });

    it("keeps the volumes named in keep, even persistent ones with removePersistent", async () => {
      const kept = { name: "kept", persistentName: `cnbp-driver-testkit-${s.run}-kept` };
      const first = await s.workspace([kept]);
      await first.put("kept", "/", Readable.from([oneFileTar("kept.txt", "kept\n")]));
      await first.dispose({ keep: ["kept"], removePersistent: true });
      const second = await s.workspace([kept]);
      expect(await shell(second, "kept", "cat /w/kept.txt")).toBe("kept\n");
      await second.dispose({ removePersistent: true });
    });
  });
}
