/**
 * BuildDriver.build through the engine's build API: the context as a tar, intermediate containers always
 * removed (forcerm), and on failure or cancellation the containers and images this build made removed too.
 */
import { randomBytes } from "node:crypto";
import { isAbsolute, relative, sep } from "node:path";
import {
  type BuiltImage,
  type DockerfileBuild,
  DriverError,
  lastLines,
  type StepIO,
} from "@cnbp/core/drivers";
import { DRIVER_NAME } from "./connection.js";
import { contextTar } from "./context.js";
import { cancelled, type Engine, engineError, errorOf, followJson, statusOf } from "./engine.js";

const OP = "build";
const RED = "\u001b[91m";
const RESET = "\u001b[0m";

/** What the legacy builder's output says it made: step containers and the images committed from them. */
class Made {
  readonly containers: string[] = [];
  readonly images: string[] = [];
  /** Whether the image the current step ends with is this build's: not a FROM's, not one from the cache. */
  private ours = false;

  line(line: string): void {
    const step = /^Step \d+\/\d+ : (\S+)/.exec(line);
    if (step) this.ours = step[1]?.toUpperCase() !== "FROM";
    else if (line === " ---> Using cache") this.ours = false;
    const run = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(line)?.[1];
    if (run) this.containers.push(run);
    const image = /^ ---> ([0-9a-f]{12,64})$/.exec(line)?.[1];
    if (image && this.ours) this.images.push(image);
    if (image) this.ours = false;
  }

  /** Removes what it saw (what the engine removed already is fine). */
  async remove(engine: Engine): Promise<void> {
    for (const id of this.containers)
      await engine.docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => {});
    for (const id of this.images.reverse())
      await engine.docker
        .getImage(id)
        .remove()
        .catch(() => {});
  }
}

export async function buildImage(engine: Engine, req: DockerfileBuild, io: StepIO): Promise<BuiltImage> {
  if (io.signal?.aborted) throw cancelled(OP);
  const pull = req.pull ?? "if-not-present";
  if (pull === "never" && !(await hasImage(engine, req.baseImage)))
    throw new DriverError(
      "CNBP_BUILD_FAILED",
      DRIVER_NAME,
      OP,
      `no base image ${JSON.stringify(req.baseImage)}`,
      {
        hints: ["the pull policy is never: pull the base image first"],
      },
    );
  const rel = relative(req.context, req.dockerfile);
  const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  const dockerfile = inside ? rel.split(sep).join("/") : `.cnbp-dockerfile-${randomBytes(4).toString("hex")}`;
  const context = contextTar(req.context, inside ? undefined : { name: dockerfile, source: req.dockerfile });
  const made = new Made();
  let tail = "";
  let failure: string | undefined;
  let id: string | undefined;
  let pending = "";
  const out = (text: string, sink: StepIO["stdout"]) => {
    sink.write(Buffer.from(text));
    tail = (tail + text).slice(-8192);
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) made.line(line);
  };
  try {
    const progress = await engine.docker.buildImage(context, {
      t: req.tag,
      dockerfile,
      buildargs: { ...req.buildArgs, base_image: req.baseImage },
      labels: { ...req.labels },
      pull: pull === "always",
      rm: true,
      forcerm: true,
      ...(req.platform ? { platform: req.platform } : {}),
      ...(io.signal ? { abortSignal: io.signal } : {}),
    });
    await followJson(progress, (m) => {
      if (m.stream) {
        // the legacy builder wraps each write of a step's stderr in red: that is how stderr is told apart
        const text = m.stream;
        if (text.startsWith(RED) && text.endsWith(RESET))
          out(text.slice(RED.length, -RESET.length), io.stderr);
        else out(text, io.stdout);
      } else if (m.status) out(`${m.id ? `${m.id}: ` : ""}${m.status}\n`, io.stdout);
      const error = errorOf(m);
      if (error) {
        failure ??= error;
        out(`${error}\n`, io.stderr);
      }
      if (m.aux?.ID) id = m.aux.ID;
    });
    if (io.signal?.aborted) throw cancelled(OP);
    if (failure !== undefined)
      throw new DriverError(
        "CNBP_BUILD_FAILED",
        DRIVER_NAME,
        OP,
        `docker build of ${req.tag} failed: ${failure}`,
        {
          hints: lastLines(tail),
        },
      );
    id ??= (await engine.docker.getImage(req.tag).inspect()).Id;
    return { image: req.tag, id };
  } catch (err) {
    context.destroy();
    await made.remove(engine);
    if (io.signal?.aborted) throw cancelled(OP);
    throw engineError(engine, OP, err, "CNBP_BUILD_FAILED");
  }
}

async function hasImage(engine: Engine, ref: string): Promise<boolean> {
  try {
    await engine.docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw engineError(engine, OP, err);
  }
}
