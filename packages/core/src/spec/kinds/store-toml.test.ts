import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { storeToml } from "./store-toml.js";

const STORE = `
[metadata]
  last-lockfile-hash = "abc"
  [metadata.npm]
    versions = ["10.2.0", "10.3.0"]
`;

describe("store.toml", () => {
  it("accepts free-form [metadata]", () => {
    const parsed = parseSpec(storeToml, STORE, "store.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.metadata).toEqual({
      "last-lockfile-hash": "abc",
      npm: { versions: ["10.2.0", "10.3.0"] },
    });
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(storeToml, STORE, "store.toml").value;
    const again = parseSpec(storeToml, serializeSpec(storeToml, first), "store.toml").value;
    expect(again).toEqual(first);
  });

  it("refuses a [metadata] that is not a table", () => {
    expect(parseSpec(storeToml, `metadata = "abc"\n`, "store.toml").problems.map(formatProblem)).toEqual([
      `store.toml: metadata must be a table, found a string "abc"`,
    ]);
  });

  it("warns that keys outside [metadata] are not persisted", () => {
    const parsed = parseSpec(storeToml, `last-lockfile-hash = "abc"\n[metadata]\nx = 1\n`, "store.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      "store.toml: warning: last-lockfile-hash is not kept: only [metadata] is persisted",
    ]);
  });
});
