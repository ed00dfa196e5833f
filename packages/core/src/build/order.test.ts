import { describe, expect, it } from "vitest";
import { chosenOrder } from "./order.js";

const BUILDER_ORDER = [
  {
    group: [
      { id: "ex/node", version: "1.0.0" },
      { id: "ex/npm", version: "1.0.0", optional: true },
    ],
  },
  { group: [{ id: "ex/go", version: "2.0.0" }] },
];
const bp = (id: string, version = "1.0.0") => ({ id, version });

describe("the order a build's chosen buildpacks make", () => {
  it("keeps the builder's order when nothing is chosen", () => {
    expect(chosenOrder(BUILDER_ORDER, { pre: [], group: [], post: [] })).toBeUndefined();
  });

  it("replaces the builder's order with one group of pre + the chosen group + post", () => {
    expect(
      chosenOrder(BUILDER_ORDER, {
        pre: [bp("ex/pre")],
        group: [bp("ex/a"), bp("ex/b", "2.0.0")],
        post: [bp("ex/post")],
      }),
    ).toEqual({
      order: [
        {
          group: [
            { id: "ex/pre", version: "1.0.0" },
            { id: "ex/a", version: "1.0.0" },
            { id: "ex/b", version: "2.0.0" },
            { id: "ex/post", version: "1.0.0" },
          ],
        },
      ],
    });
  });

  it("wraps each of the builder's groups with pre and post alone, keeping optional entries", () => {
    expect(chosenOrder(BUILDER_ORDER, { pre: [bp("ex/pre")], group: [], post: [] })).toEqual({
      order: [
        {
          group: [
            { id: "ex/pre", version: "1.0.0" },
            { id: "ex/node", version: "1.0.0" },
            { id: "ex/npm", version: "1.0.0", optional: true },
          ],
        },
        {
          group: [
            { id: "ex/pre", version: "1.0.0" },
            { id: "ex/go", version: "2.0.0" },
          ],
        },
      ],
    });
    expect(chosenOrder(BUILDER_ORDER, { pre: [], group: [], post: [bp("ex/post")] })?.order?.[1]).toEqual({
      group: [
        { id: "ex/go", version: "2.0.0" },
        { id: "ex/post", version: "1.0.0" },
      ],
    });
  });
});
