import { describe, expect, it } from "vitest";
import { extensionBuildArgs } from "./build-args.js";
import type { ExtensionDockerfile } from "./generated.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const step: ExtensionDockerfile = {
  extensionId: "example/apt",
  kind: "build",
  dockerfile: "/generated/example_apt/build.Dockerfile",
  context: "/workspace",
  args: [
    { name: "PG_MAJOR", value: "16" },
    { name: "EMPTY", value: "" },
  ],
  extend: true,
};

describe("extensionBuildArgs", () => {
  it("gives build_id, the base's user and group, the extend-config args in order, then base_image", () => {
    const args = extensionBuildArgs(step, { image: "localhost/builder@sha256:abc", user: "1000:1001" });
    expect(Object.keys(args)).toEqual(["build_id", "user_id", "group_id", "PG_MAJOR", "EMPTY", "base_image"]);
    expect(args).toEqual({
      build_id: expect.stringMatching(UUID),
      user_id: "1000",
      group_id: "1001",
      PG_MAJOR: "16",
      EMPTY: "",
      base_image: "localhost/builder@sha256:abc",
    });
  });

  it("makes a fresh build_id for every Dockerfile", () => {
    const first = extensionBuildArgs(step, { image: "base" }).build_id;
    const second = extensionBuildArgs(step, { image: "base" }).build_id;
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(second).not.toBe(first);
  });

  it("splits User at the first ':' as the Go extender does: no group is empty, a name passes through", () => {
    const ids = (user?: string) => {
      const { user_id, group_id } = extensionBuildArgs(step, {
        image: "base",
        ...(user === undefined ? {} : { user }),
      });
      return [user_id, group_id];
    };
    expect(ids("1000")).toEqual(["1000", ""]);
    expect(ids("cnb:cnb")).toEqual(["cnb", "cnb"]);
    expect(ids("1:2:3")).toEqual(["1", "2"]);
    expect(ids("")).toEqual(["", ""]);
    expect(ids(undefined)).toEqual(["", ""]);
  });

  it("keeps base_image the platform's even when extend-config.toml names it", () => {
    const args = extensionBuildArgs(
      { ...step, args: [{ name: "base_image", value: "evil" }] },
      { image: "localhost/run:1" },
    );
    expect(args.base_image).toBe("localhost/run:1");
  });
});
