/**
 * The ground every later test stands on: each engine runs containers from each test stack, the stacks are
 * shaped like CNB base images, and images travel through the local registry between engines.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  ENGINES,
  type EngineName,
  engine,
  inRegistry,
  REGISTRY,
  RUN_ID,
  STACK_USER,
  STACKS,
} from "#test-utils";

const stacks = Object.entries(STACKS) as [keyof typeof STACKS, (typeof STACKS)[keyof typeof STACKS]][];

describe.each(ENGINES)("%s", (name) => {
  describe.each(stacks)("%s stack", (_stack, stack) => {
    it("runs the build image as the cnb user with CNB_USER_ID and CNB_GROUP_ID", async () => {
      const out = await engine(name, [
        "run",
        "--rm",
        stack.build,
        "sh",
        "-c",
        'echo "$(id -u):$(id -g) $CNB_USER_ID:$CNB_GROUP_ID $HOME"',
      ]);
      const { buildUid, gid } = STACK_USER;
      expect(out).toBe(`${buildUid}:${gid} ${buildUid}:${gid} /home/cnb`);
    });

    it("runs the run image as a different non-root user, with a PATH", async () => {
      const out = await engine(name, [
        "run",
        "--rm",
        stack.run,
        "sh",
        "-c",
        'echo "$(id -u):$(id -g) $PATH"',
      ]);
      expect(out).toBe(
        `${STACK_USER.runUid}:${STACK_USER.gid} /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      );
    });

    it("labels both images with target data like a CNB base image", async () => {
      for (const image of [stack.build, stack.run]) {
        const [config] = JSON.parse(await engine(name, ["image", "inspect", image])) as {
          Os: string;
          Architecture: string;
          Config: { Labels: Record<string, string>; User: string };
        }[];
        if (!config) throw new Error(`${name} image inspect ${image} printed no image`);
        expect(config.Os).toBe("linux");
        expect(config.Architecture).toBe("amd64");
        const labels = config.Config.Labels;
        expect(labels["io.buildpacks.base.distro.name"]).toBe(stack.distro.name);
        expect(labels["io.buildpacks.base.distro.version"]).toBe(stack.distro.version);
        expect(labels["io.buildpacks.stack.id"]).toBe(
          `io.cnbp.stacks.${stack.distro.name}-${stack.distro.version}`,
        );
        expect(labels["io.buildpacks.base.id"]).toBe(labels["io.buildpacks.stack.id"]);
        expect(config.Config.User).toBe(
          `${image === stack.run ? STACK_USER.runUid : STACK_USER.buildUid}:${STACK_USER.gid}`,
        );
      }
    });
  });
});

describe("the local registry", () => {
  const pushed: string[] = [];
  afterAll(async () => {
    for (const ref of pushed) {
      for (const name of ENGINES) await engine(name, ["rmi", "--force", ref]).catch(() => undefined);
    }
  });

  it("serves the stack images", async () => {
    const r = await fetch(`http://${REGISTRY}/v2/cnbp-stacks/busybox-run/tags/list`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ name: "cnbp-stacks/busybox-run", tags: ["latest"] });
  });

  const directions: [EngineName, EngineName][] = [
    ["podman", "docker"],
    ["docker", "podman"],
  ];
  it.each(directions)("carries an image pushed by %s to %s", async (from, to) => {
    const ref = `${REGISTRY}/cnbp-test/${RUN_ID}/from-${from}:1`;
    pushed.push(ref);
    const ctr = `cnbp-${RUN_ID}-${from}`;
    // a new layer made in the source engine, so the image is not one the target already has
    await engine(from, ["run", "--name", ctr, STACKS.busybox.run, "sh", "-c", `echo ${from} > /tmp/made-by`]);
    await engine(from, ["commit", ctr, ref]);
    await engine(from, ["rm", ctr]);
    await engine(from, ["push", ...(from === "podman" ? ["--tls-verify=false"] : []), ref]);
    await engine(from, ["rmi", ref]);
    await engine(to, ["pull", ...(to === "podman" ? ["--tls-verify=false"] : []), ref]);
    expect(await engine(to, ["run", "--rm", ref, "cat", "/tmp/made-by"])).toBe(from);
  });

  it("pulls a stack image from the registry under its registry name", async () => {
    const ref = inRegistry(STACKS.busybox.build);
    pushed.push(ref);
    await engine("podman", ["pull", "--tls-verify=false", ref]);
    expect(await engine("podman", ["run", "--rm", ref, "id", "-un"])).toBe("cnb");
  });
});
