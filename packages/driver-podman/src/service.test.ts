// Needs Podman (scripts/engines/start.sh).
import { chmod, mkdir, mkdtemp, readdir, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DriverError } from "@cnbp/core";
import { execa } from "execa";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PodmanCli } from "./podman.js";
import { libpod, SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

// a service directory of the run's own, so that the services end with the tests
const root = await mkdtemp(join(tmpdir(), "cnbp-podman-service-test-"));
let dir = "";
let n = 0;
beforeEach(async () => {
  dir = join(root, `${++n}`);
  process.env[SERVICE_DIR_ENV] = dir;
});
afterEach(() => stopOwnServices());
afterAll(() => rm(root, { recursive: true, force: true }));

/** A podman client as another process would have it: it knows no socket yet. */
const newCli = (bin = "podman"): PodmanCli => ({ bin });
/** The services' own sockets (the shared names are symlinks to them). */
const files = async () => (await readdir(dir)).sort();
const ownSockets = async () =>
  (await files()).filter((f) => /^podman-[0-9a-f]{12}-\d+-[0-9a-f]{8}\.sock$/.test(f));
/** Pids of the podman services listening on `socket` (a name in the directory). */
const servicePids = async (socket: string) =>
  (await execa("pgrep", ["-f", `system service .*${join(dir, socket)}`], { reject: false })).stdout
    .split("\n")
    .filter((l) => l !== "");
const gone = async (socket: string) => {
  for (let i = 0; i < 100 && (await servicePids(socket)).length > 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  return (await servicePids(socket)).length === 0;
};

describe("the podman API service", () => {
  it("starts on the first call under a shared name that other clients then use, and stopOwnServices ends it", async () => {
    expect(await libpod(newCli(), "test", "GET", "/_ping")).toEqual({
      exitCode: 0,
      stdout: "OK",
      stderr: "",
    });
    const [socket] = await ownSockets();
    const shared = (await files()).filter((f) => f !== socket);
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatch(/^podman-[0-9a-f]{12}\.sock$/);
    expect(await readlink(join(dir, shared[0] as string))).toBe(socket);
    expect(socket?.startsWith((shared[0] as string).replace(/\.sock$/, `-${process.pid}-`))).toBe(true);
    expect((await libpod(newCli(), "test", "GET", "/_ping")).exitCode).toBe(0);
    expect(await ownSockets()).toEqual([socket]);
    expect(await servicePids(socket as string)).toHaveLength(1);
    stopOwnServices();
    expect(await ownSockets()).toEqual([]);
    expect(await gone(socket as string)).toBe(true);
  });

  it("runs in / rather than the working directory of the process that started it, which may go first", async () => {
    expect((await libpod(newCli(), "test", "GET", "/_ping")).exitCode).toBe(0);
    const [socket] = await ownSockets();
    const [pid] = await servicePids(socket as string);
    expect(await readlink(`/proc/${pid}/cwd`)).toBe("/");
  });

  it("gives another podman executable a service of its own", async () => {
    expect((await libpod(newCli("podman"), "test", "GET", "/_ping")).exitCode).toBe(0);
    expect((await libpod(newCli("/usr/bin/podman"), "test", "GET", "/_ping")).exitCode).toBe(0);
    expect(await ownSockets()).toHaveLength(2);
    expect((await files()).filter((f) => /^podman-[0-9a-f]{12}\.sock$/.test(f))).toHaveLength(2);
  });

  it("starts another service when the shared one ended (as after its idle time), for a client that used it", async () => {
    const cli = newCli();
    expect((await libpod(cli, "test", "GET", "/_ping")).exitCode).toBe(0);
    const [first] = await ownSockets();
    await execa("pkill", ["-f", `system service .*${join(dir, first as string)}`]);
    // the killed service removes its socket as it ends, which takes a moment on a busy machine
    for (let i = 0; i < 100 && (await ownSockets()).includes(first as string); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await libpod(cli, "test", "GET", "/_ping")).exitCode).toBe(0);
    const now = await ownSockets();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
  });

  it("serves clients that find no service at the same moment, each starting one", async () => {
    const results = await Promise.all([1, 2, 3].map(() => libpod(newCli(), "test", "GET", "/_ping")));
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    const [shared] = (await files()).filter((f) => /^podman-[0-9a-f]{12}\.sock$/.test(f));
    expect(await ownSockets()).toContain(await readlink(join(dir, shared as string)));
    expect((await libpod(newCli(), "test", "GET", "/_ping")).exitCode).toBe(0);
  });

  it("answers an API error with its status and the API's message", async () => {
    const absent = `cnbp-service-test-absent-${process.pid}`;
    expect(await libpod(newCli(), "test", "DELETE", `/volumes/${absent}?force=false`)).toEqual({
      exitCode: 404,
      stdout: "",
      stderr: `no volume with name "${absent}" found: no such volume`,
    });
  });

  it("refuses a directory others can enter, saying what to do", async () => {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o755);
    const err = await libpod(newCli(), "test", "GET", "/_ping").then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect(err?.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err?.message).toBe(
      `driver podman: service: ${dir} is not a directory only this user can enter, and the podman API socket would be there`,
    );
    expect(err?.hints).toEqual([
      `remove it (cnbp makes it again, mode 0700), or set ${SERVICE_DIR_ENV} to a directory of your own`,
      'the podman executable was "podman"',
    ]);
    expect(await files()).toEqual([]);
  });

  it("throws CNBP_DRIVER_UNAVAILABLE naming the executable when podman cannot start", async () => {
    const err = await libpod(newCli("/nonexistent/podman"), "test", "GET", "/_ping").then(
      () => undefined,
      (e: DriverError) => e,
    );
    expect(err?.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err?.message).toBe(
      "driver podman: test: cannot run /nonexistent/podman: spawn /nonexistent/podman ENOENT",
    );
    expect(await files()).toEqual([]);
  });
});
