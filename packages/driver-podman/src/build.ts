/** BuildDriver.build through `podman build`, leaving no intermediate container or image behind. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  type BuiltImage,
  type DockerfileBuild,
  DriverError,
  lastLines,
  type StepIO,
} from "@cnbp/core/drivers";
import { removeLeftovers, workingContainers } from "./build-leftovers.js";
import { cancelled, DRIVER_NAME, type PodmanCli, spawnPodman } from "./podman.js";

const OP = "build";
const PULL = { always: "always", "if-not-present": "missing", never: "never" } as const;

export async function buildImage(cli: PodmanCli, req: DockerfileBuild, io: StepIO): Promise<BuiltImage> {
  if (io.signal?.aborted) throw cancelled(OP);
  const tmp = await mkdtemp(join(tmpdir(), "cnbp-podman-build-"));
  try {
    const iidfile = join(tmp, "iid");
    const args = ["build", "--file", req.dockerfile, "--tag", req.tag, "--iidfile", iidfile];
    args.push("--layers=false", "--rm", "--force-rm", `--pull=${PULL[req.pull ?? "if-not-present"]}`);
    for (const [k, v] of Object.entries({ ...req.buildArgs, base_image: req.baseImage }))
      args.push("--build-arg", `${k}=${v}`);
    for (const [k, v] of Object.entries(req.labels ?? {})) args.push("--label", `${k}=${v}`);
    if (req.platform) args.push("--platform", req.platform);
    const before = io.signal ? await workingContainers(cli) : [];
    const { proc } = await spawnPodman(cli, [...args, req.context], {
      stdin: "ignore",
      ...(io.signal ? { cancelSignal: io.signal, forceKillAfterDelay: 10_000 } : {}),
    });
    let tail = "";
    const forward = (stream: Readable | null, sink: StepIO["stdout"]) =>
      stream?.on("data", (chunk: Buffer) => {
        sink.write(chunk);
        tail = (tail + chunk.toString()).slice(-8192);
      });
    forward(proc.stdout as Readable | null, io.stdout);
    forward(proc.stderr as Readable | null, io.stderr);
    const r = await proc;
    if (r.isCanceled || io.signal?.aborted) {
      await removeLeftovers(cli, req.baseImage, before);
      throw cancelled(OP);
    }
    if (r.exitCode !== 0) {
      const lines = lastLines(tail);
      throw new DriverError("CNBP_BUILD_FAILED", DRIVER_NAME, OP, `podman build of ${req.tag} failed`, {
        hints: lines,
      });
    }
    const id = (await readFile(iidfile, "utf8")).trim();
    return { image: req.tag, id: id.startsWith("sha256:") ? id : `sha256:${id}` };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
