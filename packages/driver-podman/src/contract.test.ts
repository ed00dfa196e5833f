// Needs Podman and the registry (scripts/engines/start.sh) and the busybox test stack (scripts/stacks/build.sh).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDriverContract, type LeakProbe, runtimeDriverContract } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { afterAll } from "vitest";
import { createDriver } from "./index.js";
import { SERVICE_DIR_ENV, stopOwnServices } from "./service.js";

// the API service in a directory of this file's own, so that it ends with the tests
const serviceDir = await mkdtemp(join(tmpdir(), "cnbp-podman-service-"));
process.env[SERVICE_DIR_ENV] = serviceDir;
afterAll(async () => {
  stopOwnServices();
  await rm(serviceDir, { recursive: true, force: true });
});

interface PsJson {
  Names?: string[];
  Image?: string;
  Labels?: Record<string, string> | null;
}

/** Containers (Buildah's too), volumes and images Podman still holds from a suite run, one line each. */
async function podmanLeaks({ label, value, images }: LeakProbe): Promise<string[]> {
  const lines = async (args: string[]) => (await execa("podman", args)).stdout.split("\n").filter((l) => l);
  const ps = JSON.parse(
    (await execa("podman", ["ps", "--all", "--external", "--format", "json"])).stdout,
  ) as PsJson[];
  const containers = ps
    .filter((c) => c.Labels?.[label] === value || images.includes(c.Image ?? ""))
    .map((c) => `container ${c.Names?.join(",")} (${c.Image})`);
  const filter = ["--filter", `label=${label}=${value}`];
  const volumes = (await lines(["volume", "ls", "--quiet", ...filter])).map((v) => `volume ${v}`);
  const imgs = (await lines(["images", "--quiet", ...filter])).map((i) => `image ${i}`);
  return [...containers, ...volumes, ...imgs];
}

runtimeDriverContract("podman", () => createDriver(), { registry: "127.0.0.1:5000", leaks: podmanLeaks });
buildDriverContract("podman", () => createDriver(), { leaks: podmanLeaks });
