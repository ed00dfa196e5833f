import type { BuildPlan } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import { captureLog } from "../cache/test-support/fixtures.js";
import type { ModuleRef } from "./order.js";
import { resolvePlan } from "./resolve-plan.js";

const bp = (id: string, optional = false): ModuleRef => ({ kind: "buildpack", id, version: "1", optional });
const ext = (id: string): ModuleRef => ({ kind: "extension", id, version: "1", optional: true });
const provides = (...names: string[]) => names.map((name) => ({ name }));
const requires = (...names: string[]) => names.map((name) => ({ name }));

function resolve(participants: [ModuleRef, BuildPlan][]) {
  const { log, out } = captureLog("debug");
  const result = resolvePlan(
    participants.map(([ref, plan]) => ({ ref, plan })),
    log,
  );
  return { ids: result?.modules.map((m) => m.id), entries: result?.entries, out };
}

describe("resolvePlan", () => {
  it("gives each require the providers at or before it, and keeps its metadata", () => {
    const { ids, entries, out } = resolve([
      [bp("a"), { provides: provides("node") }],
      [bp("b"), { provides: provides("node"), requires: [{ name: "node", metadata: { version: "20" } }] }],
      [bp("c"), { requires: requires("node") }],
    ]);
    expect(ids).toEqual(["a", "b", "c"]);
    expect(entries).toEqual([
      {
        providers: [
          { id: "a", version: "1" },
          { id: "b", version: "1" },
        ],
        requires: [{ name: "node", metadata: { version: "20" } }, { name: "node" }],
      },
    ]);
    expect(out).toEqual(["Resolving plan... (try #1)"]);
  });

  it("fails a required module that requires before anyone provides, or provides what nobody requires after", () => {
    expect(
      resolve([
        [bp("a"), { requires: requires("x") }],
        [bp("b"), { provides: provides("x") }],
      ]).out,
    ).toEqual(["Resolving plan... (try #1)", "fail: a@1 requires x"]);
    expect(resolve([[bp("a"), { provides: provides("x") }]]).out).toEqual([
      "Resolving plan... (try #1)",
      "fail: a@1 provides unused x",
    ]);
  });

  it("tries [[or]] alternatives depth-first, the first module's options varying slowest", () => {
    const { ids, entries, out } = resolve([
      [bp("a"), { provides: provides("x"), or: [{ provides: provides("y") }] }],
      [bp("b"), { requires: requires("z"), or: [{ requires: requires("y") }] }],
    ]);
    expect(ids).toEqual(["a", "b"]);
    expect(entries).toEqual([{ providers: [{ id: "a", version: "1" }], requires: [{ name: "y" }] }]);
    expect(out).toEqual([
      "Resolving plan... (try #1)",
      "fail: b@1 requires z",
      "Resolving plan... (try #2)",
      "fail: b@1 requires y",
      "Resolving plan... (try #3)",
      "fail: b@1 requires z",
      "Resolving plan... (try #4)",
    ]);
  });

  it("drops optional modules that offend, only on their last option, and evaluates again", () => {
    const { ids, entries, out } = resolve([
      [bp("a", true), { requires: requires("x"), or: [{ requires: requires("y") }] }],
      [bp("b"), {}],
      [bp("c", true), { provides: provides("z") }],
    ]);
    expect(ids).toEqual(["b"]);
    expect(entries).toEqual([]);
    expect(out).toEqual([
      "Resolving plan... (try #1)",
      "fail: a@1 requires x",
      "Resolving plan... (try #2)",
      "skip: a@1 requires y",
      "skip: c@1 provides unused z",
    ]);
  });

  it("keeps extensions that provide what a buildpack requires and drops the others", () => {
    const { ids, entries, out } = resolve([
      [ext("curl"), { provides: provides("curl") }],
      [ext("jq"), { provides: provides("jq") }],
      [bp("a"), { requires: requires("curl") }],
    ]);
    expect(ids).toEqual(["curl", "a"]);
    expect(entries).toEqual([
      { providers: [{ id: "curl", version: "1", extension: true }], requires: [{ name: "curl" }] },
    ]);
    expect(out).toEqual(["Resolving plan... (try #1)", "skip: jq@1 provides unused jq"]);
  });

  it("fails a trial left without buildpacks", () => {
    const { ids, out } = resolve([
      [ext("curl"), {}],
      [bp("a", true), { requires: requires("nothing") }],
    ]);
    expect(ids).toBeUndefined();
    expect(out).toEqual([
      "Resolving plan... (try #1)",
      "skip: a@1 requires nothing",
      "fail: no viable buildpacks in group",
    ]);
  });
});
