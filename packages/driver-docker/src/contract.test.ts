// Needs Docker and the registry (scripts/engines/start.sh) and the busybox test stack loaded into Docker
// (scripts/stacks/build.sh).
import { buildDriverContract, type LeakProbe, runtimeDriverContract } from "@cnbp/driver-testkit";
import { execa } from "execa";
import { createDriver } from "./index.js";

const lines = async (args: string[]) => (await execa("docker", args)).stdout.split("\n").filter((l) => l);

/** Containers (a build's intermediate ones too), volumes and images Docker still holds from a suite run. */
async function dockerLeaks({ label, value, images }: LeakProbe): Promise<string[]> {
  const filter = ["--filter", `label=${label}=${value}`];
  const ps = ["ps", "--all", "--format", "container {{.Names}} ({{.Image}})"];
  const containers = await lines([...ps, ...filter]);
  // a build's intermediate containers carry no label: they are found by the image they descend from
  for (const image of images) {
    const r = await execa("docker", [...ps, "--filter", `ancestor=${image}`], { reject: false });
    if (r.exitCode === 0) containers.push(...r.stdout.split("\n").filter((l) => l));
  }
  const volumes = (await lines(["volume", "ls", "--quiet", ...filter])).map((v) => `volume ${v}`);
  const imgs = (await lines(["images", "--quiet", ...filter])).map((i) => `image ${i}`);
  return [...new Set(containers), ...volumes, ...imgs];
}

runtimeDriverContract("docker", () => createDriver(), { registry: "127.0.0.1:5000", leaks: dockerLeaks });
buildDriverContract("docker", () => createDriver(), { leaks: dockerLeaks });
