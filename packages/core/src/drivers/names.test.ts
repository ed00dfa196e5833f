import { describe, expect, it } from "vitest";
import { safeObjectName, uniqueName } from "./names.js";

describe("engine object names", () => {
  it("keeps a name Docker and Podman take, and makes any other text one they take", () => {
    expect(safeObjectName("cnbp-cache.v1_app")).toBe("cnbp-cache.v1_app");
    expect(safeObjectName("my app/build@sha256:ab")).toBe("my-app-build-sha256-ab");
    expect(safeObjectName("-._leading")).toBe("leading");
    expect(safeObjectName("///")).toBe("x");
  });

  it("joins the parts and a random suffix, different each time", () => {
    const a = uniqueName("cnbp", "build 1", "step");
    expect(a).toMatch(/^cnbp-build-1-step-[0-9a-f]{8}$/);
    expect(uniqueName("cnbp", "build 1", "step")).not.toBe(a);
  });
});
