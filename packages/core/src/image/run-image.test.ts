import { describe, expect, it } from "vitest";
import { runImageListed, selectRunImage } from "./run-image.js";

const entry = {
  image: "registry.example/run:jammy",
  mirrors: ["mirror.example/run:jammy", "ghcr.io/org/run:jammy"],
};
const all = async () => true;

describe("run image mirrors", () => {
  it("prefers the candidate on the output image's registry", async () => {
    expect(await selectRunImage(entry, "ghcr.io/org/app:1", all)).toBe("ghcr.io/org/run:jammy");
    expect(await selectRunImage(entry, "registry.example/app", all)).toBe("registry.example/run:jammy");
  });

  it("falls back to the first readable candidate in order", async () => {
    const readable = async (ref: string) => ref !== "registry.example/run:jammy";
    expect(await selectRunImage(entry, "other.example/app", readable)).toBe("mirror.example/run:jammy");
  });

  it("skips a same-registry candidate that cannot be read", async () => {
    const readable = async (ref: string) => ref !== "ghcr.io/org/run:jammy";
    expect(await selectRunImage(entry, "ghcr.io/org/app", readable)).toBe("registry.example/run:jammy");
  });

  it("gives nothing when no candidate is readable", async () => {
    expect(await selectRunImage(entry, "ghcr.io/org/app", async () => false)).toBeUndefined();
  });

  it("treats docker.io and index.docker.io as one registry", async () => {
    const hub = { image: "gcr.io/x/run", mirrors: ["index.docker.io/x/run"] };
    expect(await selectRunImage(hub, "docker.io/x/app", all)).toBe("index.docker.io/x/run");
  });

  it("recognises a listed image after normalisation", () => {
    expect(runImageListed(entry, `registry.example/run:jammy@sha256:${"b".repeat(64)}`)).toBe(true);
    expect(runImageListed({ image: "ubuntu" }, "index.docker.io/library/ubuntu:latest")).toBe(true);
    expect(runImageListed(entry, "registry.example/run:focal")).toBe(false);
  });
});
