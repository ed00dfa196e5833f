/**
 * What `podman build` and `buildah bud` share, both being Buildah: the flags of a DockerfileBuild, and the
 * output forwarded to a step's sinks with its end kept for a failure's hints.
 */
import type { Readable } from "node:stream";
import type { DockerfileBuild, StepIO } from "./contract.js";

const PULL = { always: "always", "if-not-present": "missing", never: "never" } as const;

/** The Dockerfile, tag, pull policy, build args (with `base_image`), labels and platform of `req` as flags. */
export function buildahBuildFlags(req: DockerfileBuild): string[] {
  const args = ["--file", req.dockerfile, "--tag", req.tag, `--pull=${PULL[req.pull ?? "if-not-present"]}`];
  for (const [k, v] of Object.entries({ ...req.buildArgs, base_image: req.baseImage }))
    args.push("--build-arg", `${k}=${v}`);
  for (const [k, v] of Object.entries(req.labels ?? {})) args.push("--label", `${k}=${v}`);
  if (req.platform) args.push("--platform", req.platform);
  return args;
}

/** Writes a build's stdout and stderr to `io`'s sinks; the returned function gives their last 8 KiB. */
export function forwardBuildOutput(
  proc: { readonly stdout: Readable | null; readonly stderr: Readable | null },
  io: StepIO,
): () => string {
  let tail = "";
  const forward = (stream: Readable | null, sink: StepIO["stdout"]) =>
    stream?.on("data", (chunk: Buffer) => {
      sink.write(chunk);
      tail = (tail + chunk.toString()).slice(-8192);
    });
  forward(proc.stdout, io.stdout);
  forward(proc.stderr, io.stderr);
  return () => tail;
}
