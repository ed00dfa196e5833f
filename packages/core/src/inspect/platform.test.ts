import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { hostPlatform, isPlatform, parsePlatform } from "./platform.js";

describe("the platform inspect shows", () => {
  it("is Linux on the host's architecture, by OCI names", () => {
    expect(hostPlatform("x64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(hostPlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(hostPlatform("s390x")).toEqual({ os: "linux", architecture: "s390x" });
  });

  it("reads os/arch[/variant], refusing other shapes with the flag's name", () => {
    expect(parsePlatform("linux/arm64/v8", "--platform")).toEqual({
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    expect(parsePlatform("linux/amd64", "--platform")).toEqual({ os: "linux", architecture: "amd64" });
    for (const bad of ["linux", "linux/", "/amd64", "linux/arm64/", "linux/arm/v7/x"]) {
      expect(() => parsePlatform(bad, "--platform")).toThrow(
        new UsageError(`--platform "${bad}" must be os/arch or os/arch/variant, e.g. linux/arm64`),
      );
    }
  });

  it("compares the variant only when one is wanted", () => {
    const arm = { os: "linux", arch: "arm64", variant: "v8", distros: [] };
    expect(isPlatform(arm, { os: "linux", architecture: "arm64" })).toBe(true);
    expect(isPlatform(arm, { os: "linux", architecture: "arm64", variant: "v8" })).toBe(true);
    expect(isPlatform(arm, { os: "linux", architecture: "arm64", variant: "v9" })).toBe(false);
    expect(isPlatform(arm, { os: "linux", architecture: "amd64" })).toBe(false);
  });
});
