// Needs Podman (scripts/engines/start.sh) and the busybox test stack (scripts/stacks/build.sh).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DriverError, StepIO } from "@cnbp/core";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { createDriver } from "./index.js";
import { SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

// the API service in a directory of this file's own, so that it ends with the tests
const serviceDir = await mkdtemp(join(tmpdir(), "cnbp-podman-service-"));
process.env[SERVICE_DIR_ENV] = serviceDir;
afterAll(async () => {
  stopOwnServices();
  await rm(serviceDir, { recursive: true, force: true });
});

const BUSYBOX = "localhost/cnbp-stacks/busybox-run:latest";
const RUN = `podman-run-test-${randomBytes(4).toString("hex")}`;
const driver = createDriver();
const io = (): StepIO => ({ stdout: { write: () => {} }, stderr: { write: () => {} } });
const containers = async () =>
  (await execa("podman", ["ps", "--all", "--quiet", "--filter", `name=cnbp-${RUN}-.*-step`])).stdout;

afterAll(() => driver[Symbol.asyncDispose]());

describe("workspace.run on podman", () => {
  it("resolves to exit codes 125, 126 and 127 of the step itself, which podman run uses for its own failures", async () => {
    {
      await using ws = await driver.workspace({ buildId: `${RUN}-codes`, volumes: [] });
      for (const code of [125, 126, 127])
        expect(await ws.run({ image: BUSYBOX, cmd: ["/bin/sh", "-c", `exit ${code}`] }, io())).toEqual({
          exitCode: code,
        });
    }
    expect(await containers()).toBe("");
  });

  it("throws CNBP_DRIVER_FAILED with podman's reason for a command that cannot start, and removes the container", async () => {
    {
      await using ws = await driver.workspace({ buildId: `${RUN}-nocmd`, volumes: [] });
      const err = await ws.run({ image: BUSYBOX, cmd: ["/cnbp-absent"] }, io()).then(
        () => undefined,
        (e: DriverError) => e,
      );
      expect(err?.code).toBe("CNBP_DRIVER_FAILED");
      expect(err?.message).toBe("driver podman: workspace.run: the container did not start");
      expect(err?.hints.at(-1)).toMatch(/"\/cnbp-absent": stat \/cnbp-absent: no such file or directory/);
    }
    expect(await containers()).toBe("");
  });

  it("has removed every step container once the workspace is disposed, also those still being removed", async () => {
    {
      await using ws = await driver.workspace({ buildId: `${RUN}-later`, volumes: [] });
      for (let i = 0; i < 3; i++)
        expect(await ws.run({ image: BUSYBOX, cmd: ["/bin/true"] }, io())).toEqual({ exitCode: 0 });
    }
    expect(await containers()).toBe("");
  });
});
