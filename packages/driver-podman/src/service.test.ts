// Needs Podman (scripts/engines/start.sh).
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { DriverError } from "@cnbp/core";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import type { PodmanCli } from "./podman.js";
import { libpod, stopService } from "./service.js";

const clis: PodmanCli[] = [];
const newCli = (bin = "podman"): PodmanCli => {
  const cli = { bin };
  clis.push(cli);
  return cli;
};
afterEach(() => {
  for (const cli of clis.splice(0)) stopService(cli);
});

/** This process's API sockets in the temp dir. */
const sockets = async () =>
  (await readdir(tmpdir())).filter((f) => f.startsWith(`cnbp-podman-api-${process.pid}-`)).sort();
/** Pids of the podman services listening on `socket`. */
const servicePids = async (socket: string) =>
  (await execa("pgrep", ["-f", `system service .*${socket}`], { reject: false })).stdout
    .split("\n")
    .filter((l) => l !== "");

describe("the podman API service", () => {
  it("starts on the first call, serves later calls, and stopService ends it and removes its socket", async () => {
    const cli = newCli();
    expect(await sockets()).toEqual([]);
    expect(await libpod(cli, "test", "GET", "/_ping")).toEqual({ exitCode: 0, stdout: "OK", stderr: "" });
    const [socket] = await sockets();
    expect(socket).toMatch(new RegExp(`^cnbp-podman-api-${process.pid}-[0-9a-f]{8}\\.sock$`));
    expect((await libpod(cli, "test", "GET", "/_ping")).exitCode).toBe(0);
    expect(await sockets()).toEqual([socket]);
    expect(await servicePids(socket as string)).toHaveLength(1);
    stopService(cli);
    expect(await sockets()).toEqual([]);
    for (let i = 0; i < 100 && (await servicePids(socket as string)).length > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await servicePids(socket as string)).toEqual([]);
  });

  it("starts another service when its own ended (as after its idle time)", async () => {
    const cli = newCli();
    expect((await libpod(cli, "test", "GET", "/_ping")).exitCode).toBe(0);
    const [first] = await sockets();
    await execa("pkill", ["-f", `system service .*${first}`]);
    // the killed service removes its socket as it ends, which takes a moment on a busy machine
    for (let i = 0; i < 100 && (await sockets()).includes(first as string); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await libpod(cli, "test", "GET", "/_ping")).exitCode).toBe(0);
    const now = await sockets();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
  });

  it("answers an API error with its status and the API's message", async () => {
    const cli = newCli();
    const absent = `cnbp-service-test-absent-${process.pid}`;
    expect(await libpod(cli, "test", "DELETE", `/volumes/${absent}?force=false`)).toEqual({
      exitCode: 404,
      stdout: "",
      stderr: `no volume with name "${absent}" found: no such volume`,
    });
  });

  it("throws CNBP_DRIVER_UNAVAILABLE naming the executable when podman cannot start", async () => {
    const cli = newCli("/nonexistent/podman");
    const err = await libpod(cli, "test", "GET", "/_ping").then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect(err?.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err?.message).toBe(
      "driver podman: test: cannot run /nonexistent/podman: spawn /nonexistent/podman ENOENT",
    );
    expect(await sockets()).toEqual([]);
  });
});
