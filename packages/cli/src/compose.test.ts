import { resolve } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import { compose, REGISTERED_TOKENS } from "./compose.js";

describe("compose", () => {
  it("resolves every registered token", () => {
    const c = compose({ logLevel: "silent" });
    for (const t of REGISTERED_TOKENS) expect(resolve(c, t)).toBeDefined();
  });

  it("gives the logger the level asked for", () => {
    expect(resolve(compose({ logLevel: "debug" }), REGISTERED_TOKENS[0]).level).toBe("debug");
  });
});
