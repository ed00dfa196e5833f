import { describe, expect, it } from "vitest";
import type { DriverError } from "./errors.js";
import { volumePath } from "./volume-path.js";

describe("volumePath", () => {
  it("gives an absolute path's segments, without empty ones and '.'", () => {
    expect(volumePath("podman", "workspace.put", "/a//b/./c/")).toEqual(["a", "b", "c"]);
    expect(volumePath("podman", "workspace.put", "/")).toEqual([]);
  });

  it("refuses a relative path and one with '..', naming the path and what to give", () => {
    for (const path of ["a/b", "/a/../../etc", "/.."]) {
      let err: DriverError | undefined;
      try {
        volumePath("docker", "workspace.get", path);
      } catch (e) {
        err = e as DriverError;
      }
      expect([err?.code, err?.message, err?.hints]).toEqual([
        "CNBP_UNSAFE_PATH",
        `driver docker: workspace.get: ${JSON.stringify(path)} is not an absolute path inside the volume`,
        ["give a path that starts with / and has no .. in it"],
      ]);
    }
  });
});
