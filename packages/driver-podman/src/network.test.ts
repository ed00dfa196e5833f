// Needs Podman (scripts/engines/start.sh installs it and slirp4netns) and the busybox test stack (scripts/stacks/build.sh).
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { StepIO } from "@cnbp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver } from "./index.js";
import { findExecutable } from "./network.js";
import { SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

const serviceDir = await mkdtemp(join(tmpdir(), "cnbp-podman-service-"));
process.env[SERVICE_DIR_ENV] = serviceDir;
const scratch = await mkdtemp(join(tmpdir(), "cnbp-podman-network-"));
afterAll(async () => {
  stopOwnServices();
  await rm(serviceDir, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";
const RUN = `podman-net-test-${randomBytes(4).toString("hex")}`;

/** A TCP server on all of the host's addresses that answers "hello" to each connection. */
let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((socket) => socket.end("hello\n"));
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The host's first IPv4 address that is not loopback: what a build reaches the outside world through. */
const hostAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

/** The step's network interfaces, then what it got from the host's server by address and by loopback. */
const probe = () =>
  [
    "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
    `nc -w 3 ${hostAddress} ${port} </dev/null || echo unreachable`,
  ].join("; ");

async function runProbe(buildId: string, network?: "slirp4netns" | "podman-default") {
  const driver = createDriver(network ? { network } : {});
  const out: Buffer[] = [];
  const io: StepIO = {
    stdout: { write: (c: Uint8Array) => out.push(Buffer.from(c)) },
    stderr: { write: () => {} },
  };
  {
    await using ws = await driver.workspace({ buildId, volumes: [] });
    expect(await ws.run({ image: BUSYBOX, cmd: ["/bin/sh", "-c", probe()] }, io)).toEqual({ exitCode: 0 });
  }
  return Buffer.concat(out).toString();
}

describe("the network of a podman step given none", () => {
  it("is slirp4netns when installed: a tap device, through which the step reaches the host's address", async () => {
    expect(hostAddress).toBeDefined();
    expect(await runProbe(`${RUN}-slirp`)).toBe("lo\ntap0\nhello\n");
  });

  it('is Podman\'s own default network with the option network = "podman-default" (the bridge, rootful)', async () => {
    expect(await runProbe(`${RUN}-bridge`, "podman-default")).toBe("lo\neth0\nhello\n");
  });
});

describe("findExecutable (how the driver tells slirp4netns is installed)", () => {
  it("finds an executable file in one of the directories, and not a file that is not executable", async () => {
    const dir = await mkdtemp(join(scratch, "bin-"));
    await writeFile(join(dir, "slirp4netns"), "#!/bin/sh\n");
    expect(findExecutable("slirp4netns", ["/cnbp-absent", dir])).toBe(false);
    await chmod(join(dir, "slirp4netns"), 0o755);
    expect(findExecutable("slirp4netns", ["/cnbp-absent", dir])).toBe(true);
    expect(findExecutable("slirp4netns", ["/cnbp-absent"])).toBe(false);
  });
});
