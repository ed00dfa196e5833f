import { describe, expect, it } from "vitest";
import { mergeStacks, packageStacks } from "./stacks.js";

describe("packageStacks", () => {
  it("gives a component buildpack that declares targets the wildcard stack", () => {
    expect(packageStacks({ api: "0.10", targets: [{ os: "linux" }] }, [])).toEqual([{ id: "*" }]);
  });

  it("takes a composite's stacks from its dependencies, mixins joined and sorted", () => {
    const composite = { api: "0.10", order: [{ group: [{ id: "a", version: "1" }] }] };
    expect(
      packageStacks(composite, [
        { api: "0.8", stacks: [{ id: "s1", mixins: ["b", "a"] }, { id: "s2" }] },
        { api: "0.8", stacks: [{ id: "s1", mixins: ["c", "a"] }] },
        { api: "0.10" },
      ]),
    ).toEqual([{ id: "s1", mixins: ["a", "b", "c"] }]);
  });

  it("is empty when the buildpacks share no stack", () => {
    expect(
      packageStacks({ api: "0.8", stacks: [{ id: "s1" }] }, [{ api: "0.8", stacks: [{ id: "s2" }] }]),
    ).toEqual([]);
  });
});

describe("mergeStacks", () => {
  it("keeps the other list when one has the wildcard, and only the wildcard when both do", () => {
    const listed = [{ id: "s1", mixins: ["m"] }, { id: "s2" }];
    expect(mergeStacks([{ id: "*" }, { id: "s1" }], listed)).toEqual(listed);
    expect(mergeStacks(listed, [{ id: "*" }])).toEqual(listed);
    expect(mergeStacks([{ id: "*" }], [{ id: "*" }, { id: "s1" }])).toEqual([{ id: "*" }]);
  });
});
