/**
 * BuildDriver.build through `buildah bud --layers` (unless the request turns the step cache off): every step's
 * result is cached as an untagged image in the store, so a rebuild of an unchanged Dockerfile on the same base
 * runs no RUN step again. Buildah removes
 * those cache images with the built image they lead to (`buildah rmi` of it); a failed or stopped build's
 * own are removed at once (./build-leftovers.ts).
 */
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
import { imageIds, removeNewStepImages } from "./build-leftovers.js";
import { type BuildahCli, cancelled, DRIVER_NAME, spawnBuildah, unavailable } from "./buildah.js";

const OP = "build";

/** `buildah bud --isolation`: "chroot" needs no OCI runtime (inside a container), at the cost of a PID namespace. */
export type Isolation = "oci" | "chroot" | "rootless";

/** The `buildah bud` arguments for `req`, writing the image id to `iidfile`. */
function budArgs(req: DockerfileBuild, iidfile: string, isolation: Isolation | undefined): string[] {
  const args = ["bud", `--layers=${req.stepCache ?? true}`, "--rm", "--force-rm", "--iidfile", iidfile];
  if (isolation) args.push("--isolation", isolation);
  return [...args, ...buildahBuildFlags(req), req.context];
}

export async function buildImage(
  cli: BuildahCli,
  req: DockerfileBuild,
  io: StepIO,
  isolation?: Isolation,
): Promise<BuiltImage> {
  if (io.signal?.aborted) throw cancelled(OP);
  const tmp = await mkdtemp(join(tmpdir(), "cnbp-buildah-build-"));
  try {
    const iidfile = join(tmp, "iid");
    // without the step cache buildah commits no step image, so a failure leaves none to find
    const stepCache = req.stepCache ?? true;
    const before = stepCache ? await imageIds(cli) : undefined;
    // SIGTERM lets buildah remove its working container (measured: ~3 s while a RUN sleeps)
    const proc = spawnBuildah(cli, budArgs(req, iidfile, isolation), {
      stdin: "ignore",
      ...(io.signal ? { cancelSignal: io.signal, forceKillAfterDelay: 10_000 } : {}),
    });
    const tail = forwardBuildOutput(proc, io);
    const r = await proc;
    // an abort after buildah finished leaves the build done: only a stopped build is cancelled
    if (r.isCanceled) {
      if (before) await removeNewStepImages(cli, before, req.labels ?? {});
      throw cancelled(OP);
    }
    if (r.failed && r.exitCode === undefined) throw unavailable(cli, OP, r.cause ?? r);
    if (r.exitCode !== 0) {
      if (before) await removeNewStepImages(cli, before, req.labels ?? {});
      throw new DriverError("CNBP_BUILD_FAILED", DRIVER_NAME, OP, `buildah bud of ${req.tag} failed`, {
        hints: lastLines(tail()),
      });
    }
    const id = (await readFile(iidfile, "utf8")).trim();
    return { image: req.tag, id: id.startsWith("sha256:") ? id : `sha256:${id}` };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
