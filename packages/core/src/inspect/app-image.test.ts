/** An app image's labels read into what `cnbp inspect` shows, and the label errors named. */
import { describe, expect, it } from "vitest";
import { type AppImageConfig, appImageInfo, readLifecycleLabel, recordedRunImages } from "./app-image.js";

const sha = (c: string) => `sha256:${c.repeat(64)}`;
const IMAGE = "reg.example/app:1 in the test";

const lifecycle = {
  app: [{ sha: sha("a") }],
  runImage: {
    topLayer: sha("2"),
    reference: `reg.example/run@${sha("9")}`,
    image: "reg.example/run:1",
    mirrors: ["m.example/run:1"],
  },
  future: "kept",
};
const build = {
  buildpacks: [
    { id: "ex/a", version: "1.0.0", homepage: "https://a.example" },
    { id: "ex/b", version: "2.0.0" },
  ],
  processes: [
    { type: "web", command: ["serve"], args: ["--port", "8080"], direct: true, buildpackID: "ex/a" },
    { type: "worker", command: "run-worker", args: null, direct: false, "working-dir": "/app" },
  ],
  "buildpack-default-process-type": "web",
};

function config(labels: Record<string, string>, extra: Partial<AppImageConfig> = {}): AppImageConfig {
  return { labels, env: ["CNB_PLATFORM_API=0.15"], os: "linux", arch: "amd64", ...extra };
}

const labels = (over: Record<string, string> = {}) => ({
  "io.buildpacks.lifecycle.metadata": JSON.stringify(lifecycle),
  "io.buildpacks.build.metadata": JSON.stringify(build),
  "io.buildpacks.project.metadata": JSON.stringify({ source: { type: "git", version: { commit: "abc" } } }),
  "io.buildpacks.stack.id": "ex.stack",
  ...over,
});

describe("appImageInfo", () => {
  it("reads the run image, buildpacks, processes, source and rebasability", () => {
    expect(appImageInfo(config(labels(), { variant: "v8" }), IMAGE)).toEqual({
      target: { os: "linux", arch: "amd64", variant: "v8" },
      stackId: "ex.stack",
      base: { reference: `reg.example/run@${sha("9")}`, topLayer: sha("2") },
      runImages: [
        { image: "reg.example/run:1", mirror: false },
        { image: "m.example/run:1", mirror: true },
      ],
      rebasable: true,
      buildpacks: [
        { id: "ex/a", version: "1.0.0", homepage: "https://a.example" },
        { id: "ex/b", version: "2.0.0" },
      ],
      extensions: [],
      processes: [
        { type: "web", command: ["serve"], args: ["--port", "8080"], direct: true, default: true },
        {
          type: "worker",
          command: ["run-worker"],
          args: [],
          workingDir: "/app",
          direct: false,
          default: false,
        },
      ],
      source: { type: "git", version: { commit: "abc" } },
    });
  });

  it("marks the default process as the entrypoint names it, else CNB_PROCESS_TYPE, else the buildpacks' default", () => {
    const defaults = (extra: Partial<AppImageConfig>) =>
      appImageInfo(config(labels(), extra), IMAGE)
        .processes.filter((p) => p.default)
        .map((p) => p.type);
    expect(defaults({})).toEqual(["web"]);
    expect(defaults({ env: ["CNB_PROCESS_TYPE=worker"] })).toEqual(["worker"]);
    expect(defaults({ entrypoint: ["/cnb/process/worker"], env: ["CNB_PROCESS_TYPE=web"] })).toEqual([
      "worker",
    ]);
    expect(defaults({ entrypoint: ["/cnb/lifecycle/launcher"] })).toEqual(["web"]);
  });

  it("says false only for io.buildpacks.rebasable=false, and takes the older stack.runImage", () => {
    const old = { stack: { runImage: { image: "old.example/run" } } };
    const info = appImageInfo(
      config({ "io.buildpacks.lifecycle.metadata": JSON.stringify(old), "io.buildpacks.rebasable": "false" }),
      IMAGE,
    );
    expect(info).toMatchObject({
      rebasable: false,
      base: {},
      runImages: [{ image: "old.example/run", mirror: false }],
      buildpacks: [],
      processes: [],
    });
    expect(appImageInfo(config(labels({ "io.buildpacks.rebasable": "TRUE" })), IMAGE).rebasable).toBe(true);
  });

  it("refuses an image without the lifecycle label, and names a broken label", () => {
    expect(() => appImageInfo(config({ "io.buildpacks.build.metadata": "{}" }), IMAGE)).toThrow(
      `${IMAGE} is not an app image built by buildpacks: it has no io.buildpacks.lifecycle.metadata label`,
    );
    expect(() => appImageInfo(config(labels({ "io.buildpacks.lifecycle.metadata": "{" })), IMAGE)).toThrow(
      `${IMAGE}: label io.buildpacks.lifecycle.metadata is not JSON: `,
    );
    expect(() => appImageInfo(config(labels({ "io.buildpacks.lifecycle.metadata": "[]" })), IMAGE)).toThrow(
      `${IMAGE}: label io.buildpacks.lifecycle.metadata: it is not a JSON object`,
    );
    const badProcess = JSON.stringify({ processes: [{ type: "web", command: 7 }] });
    expect(() => appImageInfo(config(labels({ "io.buildpacks.build.metadata": badProcess })), IMAGE)).toThrow(
      `${IMAGE}: label io.buildpacks.build.metadata: processes[0].command must be an array of strings (or a string before Platform API 0.10), found 7`,
    );
  });
});

describe("readLifecycleLabel", () => {
  it("keeps unknown keys for a rebase to write back, and gives the recorded run images", () => {
    const label = readLifecycleLabel(labels(), IMAGE);
    expect(label?.raw).toEqual(lifecycle);
    expect(recordedRunImages(label?.metadata ?? {})).toEqual({
      image: "reg.example/run:1",
      mirrors: ["m.example/run:1"],
    });
    expect(readLifecycleLabel({}, IMAGE)).toBeUndefined();
    expect(recordedRunImages({})).toEqual({ mirrors: [] });
  });
});
