import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildahBuildFlags, forwardBuildOutput } from "./buildah-build.js";

describe("what podman build and buildah bud share", () => {
  it("gives a DockerfileBuild as Buildah's flags, base_image among the build args", () => {
    const flags = buildahBuildFlags({
      dockerfile: "/ctx/build.Dockerfile",
      context: "/ctx",
      tag: "localhost/x:1",
      baseImage: "sha256:abc",
      buildArgs: { CNB_USER_ID: "1000" },
      labels: { "io.cnbp.build": "b1" },
      pull: "never",
      platform: "linux/amd64",
    });
    expect(flags).toEqual([
      "--file",
      "/ctx/build.Dockerfile",
      "--tag",
      "localhost/x:1",
      "--pull=never",
      "--build-arg",
      "CNB_USER_ID=1000",
      "--build-arg",
      "base_image=sha256:abc",
      "--label",
      "io.cnbp.build=b1",
      "--platform",
      "linux/amd64",
    ]);
    expect(
      buildahBuildFlags({ dockerfile: "D", context: "C", tag: "t", baseImage: "b", buildArgs: {} }),
    ).toEqual([...["--file", "D", "--tag", "t", "--pull=missing", "--build-arg", "base_image=b"]]);
  });

  it("forwards stdout and stderr to the step's sinks and keeps their last 8 KiB", () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    const tail = forwardBuildOutput(
      { stdout, stderr },
      {
        stdout: { write: (c) => out.push(Buffer.from(c).toString()) },
        stderr: { write: (c) => err.push(Buffer.from(c).toString()) },
      },
    );
    stdout.write("STEP 1/2\n");
    stderr.write("error: boom\n");
    stdout.write("x".repeat(9000));
    expect([out.join("").length, err]).toEqual([9 + 9000, ["error: boom\n"]]);
    expect(tail()).toBe("x".repeat(8192));
  });
});
