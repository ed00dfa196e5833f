/** BuildDriver.build through `podman build`, leaving no intermediate container or image behind. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BuiltImage,
  buildahBuildFlags,
  type DockerfileBuild,
  DriverError,
  forwardBuildOutput,
  lastLines,
  type StepIO,
} from "@cnbp/core/drivers";
import { removeLeftovers, workingContainers } from "./build-leftovers.js";
import { cancelled, DRIVER_NAME, type PodmanCli, spawnPodman } from "./podman.js";

const OP = "build";

export async function buildImage(cli: PodmanCli, req: DockerfileBuild, io: StepIO): Promise<BuiltImage> {
  if (io.signal?.aborted) throw cancelled(OP);
  const tmp = await mkdtemp(join(tmpdir(), "cnbp-podman-build-"));
  try {
    const iidfile = join(tmp, "iid");
    const args = [
      "build",
      "--layers=false",
      "--rm",
      "--force-rm",
      "--iidfile",
      iidfile,
      ...buildahBuildFlags(req),
    ];
    const before = io.signal ? await workingContainers(cli) : [];
    const { proc } = await spawnPodman(cli, [...args, req.context], {
      stdin: "ignore",
      ...(io.signal ? { cancelSignal: io.signal, forceKillAfterDelay: 10_000 } : {}),
    });
    const tail = forwardBuildOutput(proc, io);
    const r = await proc;
    if (r.isCanceled || io.signal?.aborted) {
      await removeLeftovers(cli, req.baseImage, before);
      throw cancelled(OP);
    }
    if (r.exitCode !== 0) {
      throw new DriverError("CNBP_BUILD_FAILED", DRIVER_NAME, OP, `podman build of ${req.tag} failed`, {
        hints: lastLines(tail()),
      });
    }
    const id = (await readFile(iidfile, "utf8")).trim();
    return { image: req.tag, id: id.startsWith("sha256:") ? id : `sha256:${id}` };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
