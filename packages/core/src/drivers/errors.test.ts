import { describe, expect, it } from "vitest";
import { cliUnavailable, commandFailed, lastLines } from "./errors.js";

describe("the errors of an engine's CLI", () => {
  it("takes the last non-empty lines of the output, at most n", () => {
    expect(lastLines("a\n\nb  \nc\n\n", 2)).toEqual(["b", "c"]);
  });

  it("says a failed command's last line of stderr, else of stdout, else its exit code", () => {
    const err = commandFailed("podman", "images.pull", {
      exitCode: 125,
      stdout: "",
      stderr: "x\nError: denied\n",
    });
    expect(err.code).toBe("CNBP_DRIVER_FAILED");
    expect(err.message).toBe("driver podman: images.pull: Error: denied");
    expect(err.hints).toEqual(["x", "Error: denied"]);
    expect(commandFailed("buildah", "tag", { exitCode: 1, stdout: "out", stderr: "" }).message).toBe(
      "driver buildah: tag: out",
    );
    const silent = commandFailed("podman", "tag", { exitCode: 3, stdout: "", stderr: "" }, "CNBP_NOT_FOUND");
    expect([silent.code, silent.message]).toEqual([
      "CNBP_NOT_FOUND",
      "driver podman: tag: podman exited with 3",
    ]);
  });

  it("says which executable could not start and what to install", () => {
    const err = cliUnavailable("podman", "Podman", "/opt/podman", "info", new Error("spawn ENOENT"));
    expect(err.code).toBe("CNBP_DRIVER_UNAVAILABLE");
    expect(err.message).toBe("driver podman: info: cannot run /opt/podman: spawn ENOENT");
    expect(err.hints).toEqual([
      `tried the podman executable "/opt/podman"; install Podman or set the driver's "bin" option`,
    ]);
  });
});
