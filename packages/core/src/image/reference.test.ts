import { describe, expect, it } from "vitest";
import {
  familiarReference,
  formatReference,
  parseReference,
  registryApiHost,
  sameImage,
} from "./reference.js";

const DIGEST = `sha256:${"a".repeat(64)}`;
const normal = (text: string) => formatReference(parseReference(text));

describe("image references", () => {
  it.each([
    ["ubuntu", "docker.io/library/ubuntu:latest"],
    ["ubuntu:22.04", "docker.io/library/ubuntu:22.04"],
    ["paketobuildpacks/builder-jammy-base", "docker.io/paketobuildpacks/builder-jammy-base:latest"],
    ["index.docker.io/library/ubuntu", "docker.io/library/ubuntu:latest"],
    ["docker.io/ubuntu", "docker.io/library/ubuntu:latest"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/team/app:v1", "localhost:5000/team/app:v1"],
    ["127.0.0.1:5000/cnbp-stacks/busybox-run", "127.0.0.1:5000/cnbp-stacks/busybox-run:latest"],
    ["[::1]:5000/app:1", "[::1]:5000/app:1"],
    ["ghcr.io/org/sub/app_x__y.z-w:1.2.3-rc.1", "ghcr.io/org/sub/app_x__y.z-w:1.2.3-rc.1"],
    [`ubuntu@${DIGEST}`, `docker.io/library/ubuntu@${DIGEST}`],
    [`reg.example:443/app:1@${DIGEST}`, `reg.example:443/app:1@${DIGEST}`],
  ])("normalises %s to %s", (text, expected) => {
    expect(normal(text)).toBe(expected);
  });

  it("splits a reference into its parts", () => {
    expect(parseReference(`localhost:5000/team/app@${DIGEST}`)).toEqual({
      registry: "localhost:5000",
      repository: "team/app",
      digest: DIGEST,
    });
  });

  it.each([
    ["", `"" is not a valid image reference: it is empty`],
    ["Ubuntu", `"Ubuntu" is not a valid image reference: repository name "Ubuntu" must be lowercase`],
    ["team/App", `"team/App" is not a valid image reference: repository name "App" must be lowercase`],
    [
      "app:-x",
      `"app:-x" is not a valid image reference: tag "-x" may only have letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')`,
    ],
    [
      "app@sha256:abc",
      `"app@sha256:abc" is not a valid image reference: "sha256:abc" is not a digest (algorithm:hex, e.g. sha256:<64 hex digits>)`,
    ],
    [
      "a//b",
      `"a//b" is not a valid image reference: repository name component "" may only have lowercase letters, digits and separators (., _, __, -)`,
    ],
    [
      "reg.example:99999/app",
      `"reg.example:99999/app" is not a valid image reference: "reg.example:99999" is not a valid registry host[:port]`,
    ],
  ])("refuses %j", (text, message) => {
    expect(() => parseReference(text)).toThrow(message);
  });

  it("refuses a name longer than 255 characters", () => {
    expect(() => parseReference(`reg.example/${"a".repeat(250)}`)).toThrow(
      "the name is longer than 255 characters",
    );
  });

  it("shows official images the short way", () => {
    expect(familiarReference(parseReference("docker.io/library/ubuntu"))).toBe("ubuntu:latest");
    expect(familiarReference(parseReference("org/app:1"))).toBe("org/app:1");
    expect(familiarReference(parseReference("ghcr.io/org/app:1"))).toBe("ghcr.io/org/app:1");
  });

  it("compares references after normalisation", () => {
    expect(sameImage("ubuntu", "index.docker.io/library/ubuntu:latest")).toBe(true);
    expect(sameImage("ubuntu:22.04", "ubuntu")).toBe(false);
  });

  it("calls Docker Hub's API on its API host", () => {
    expect(registryApiHost("docker.io")).toBe("registry-1.docker.io");
    expect(registryApiHost("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });
});
