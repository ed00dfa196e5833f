// Needs Buildah and skopeo (scripts/engines/start.sh) and the busybox test stack (scripts/stacks/build.sh).

import type { RuntimeDriver } from "@cnbp/core";
import { buildDriverContract, imageStoreContract, type LeakProbe } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { createDriver } from "./index.js";

interface ContainerJson {
  id: string;
  imageid: string;
  imagename: string;
  containername: string;
}

const json = async <T>(args: string[]): Promise<T> =>
  JSON.parse((await execa("buildah", args)).stdout || "null") as T;

/** Working containers from the suite's images, and the suite's images (untagged step caches too), one line each. */
async function buildahLeaks({ label, value, images }: LeakProbe): Promise<string[]> {
  const ids = new Set<string>();
  for (const ref of images) {
    const r = await execa("buildah", ["inspect", "--type", "image", "--format", "{{.FromImageID}}", ref], {
      reject: false,
    });
    if (r.exitCode === 0) ids.add(r.stdout.trim());
  }
  const containers = ((await json<ContainerJson[] | null>(["containers", "--all", "--json"])) ?? [])
    .filter((c) => images.includes(c.imagename) || ids.has(c.imageid))
    .map((c) => `container ${c.containername} (${c.imagename})`);
  const labelled =
    (await json<{ id: string }[] | null>([
      "images",
      "--all",
      "--json",
      "--filter",
      `label=${label}=${value}`,
    ])) ?? [];
  return [...containers, ...labelled.map((i) => `image ${i.id}`)];
}

buildDriverContract("buildah", () => createDriver(), { leaks: buildahLeaks });

// the image store suite reads only `info`, `capabilities` and `images`, which a build driver has too
imageStoreContract("buildah", () => createDriver() as unknown as RuntimeDriver, {
  registry: "127.0.0.1:5000",
  leaks: buildahLeaks,
});
