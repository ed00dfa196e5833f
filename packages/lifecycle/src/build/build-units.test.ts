/** The pure parts of the build: the buildpack plan per buildpack and process merging. */
import { describe, expect, it } from "vitest";
import { planFor, withoutMet } from "./buildpack-plan.js";
import type { BuildpackProcess } from "./outputs.js";
import { ProcessMerger } from "./processes.js";

const provider = (id: string, extension = false) => ({
  id,
  version: "1.0.0",
  ...(extension ? { extension } : {}),
});

describe("planFor and withoutMet", () => {
  const plan = {
    entries: [
      {
        providers: [provider("a"), provider("b")],
        requires: [{ name: "node" }, { name: "node", metadata: { v: 1 } }],
      },
      { providers: [provider("a", true)], requires: [{ name: "apt" }] },
      { providers: [provider("b")], requires: [{ name: "yarn" }] },
    ],
  };

  it("gives a buildpack the requires of entries it provides, never those of an extension with its id", () => {
    expect(planFor(plan, "a")).toEqual([{ name: "node" }, { name: "node", metadata: { v: 1 } }]);
    expect(planFor(plan, "c")).toEqual([]);
  });

  it("removes the entries a buildpack met, keeping its unmet ones for later buildpacks", () => {
    expect(planFor(withoutMet(plan, planFor(plan, "a"), []), "b")).toEqual([{ name: "yarn" }]);
    expect(planFor(withoutMet(plan, planFor(plan, "a"), ["node"]), "b")).toEqual(planFor(plan, "b"));
  });
});

describe("ProcessMerger", () => {
  const proc = (type: string, buildpackId: string, isDefault = false): BuildpackProcess => ({
    type,
    command: [type],
    direct: true,
    default: isDefault,
    buildpackId,
  });

  it("lets a later buildpack replace a type and lists processes sorted by type", () => {
    const m = new ProcessMerger();
    m.add([proc("worker", "a"), proc("web", "a", true)]);
    expect(m.add([proc("worker", "b"), proc("Admin", "b")])).toBeUndefined();
    expect(m.list().map((p) => `${p.type}:${p.buildpackId}`)).toEqual(["Admin:b", "web:a", "worker:b"]);
    expect(m.defaultType).toBe("web");
  });

  it("clears the default when a later non-default process takes its type, and warns", () => {
    const m = new ProcessMerger();
    m.add([proc("web", "a", true)]);
    expect(m.add([proc("web", "b")])).toBe(
      "redefining the following default process type with a process not marked as default: web",
    );
    expect(m.defaultType).toBeUndefined();
  });
});
