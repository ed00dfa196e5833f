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
const BUILDER = { order: BUILDER_ORDER, extensions: [] };
const BUILDER_WITH_EXTENSIONS = {
  order: BUILDER_ORDER,
  extensions: [{ group: [{ id: "ex/apt", version: "1.0.0", optional: true }] }],
};
const bp = (id: string, version = "1.0.0") => ({ id, version });
const NONE = { pre: [], group: [], post: [], extensions: [] };

describe("the order a build's chosen buildpacks make", () => {
  it("keeps the builder's order when nothing is chosen", () => {
    expect(chosenOrder(BUILDER, NONE)).toBeUndefined();
  });

  it("replaces the builder's order with one group of pre + the chosen group + post", () => {
    expect(
      chosenOrder(BUILDER, {
        ...NONE,
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
    expect(chosenOrder(BUILDER, { ...NONE, pre: [bp("ex/pre")] })).toEqual({
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
    expect(chosenOrder(BUILDER, { ...NONE, post: [bp("ex/post")] })?.order?.[1]).toEqual({
      group: [
        { id: "ex/go", version: "2.0.0" },
        { id: "ex/post", version: "1.0.0" },
      ],
    });
  });

  it("replaces the builder's extension order with one group of the chosen extensions, keeping its buildpacks'", () => {
    const chosen = { ...NONE, extensions: [bp("ex/files"), bp("ex/more", "2.0.0")] };
    const expected = {
      order: [
        {
          group: [
            { id: "ex/node", version: "1.0.0" },
            { id: "ex/npm", version: "1.0.0", optional: true },
          ],
        },
        { group: [{ id: "ex/go", version: "2.0.0" }] },
      ],
      "order-extensions": [
        {
          group: [
            { id: "ex/files", version: "1.0.0" },
            { id: "ex/more", version: "2.0.0" },
          ],
        },
      ],
    };
    expect(chosenOrder(BUILDER, chosen)).toEqual(expected);
    expect(chosenOrder(BUILDER_WITH_EXTENSIONS, chosen)).toEqual(expected);
    expect(chosenOrder(BUILDER, { ...chosen, group: [bp("ex/a")] })).toEqual({
      order: [{ group: [{ id: "ex/a", version: "1.0.0" }] }],
      "order-extensions": expected["order-extensions"],
    });
  });

  it("keeps the builder's extension order when only buildpacks are chosen", () => {
    expect(chosenOrder(BUILDER_WITH_EXTENSIONS, { ...NONE, group: [bp("ex/a")] })).toEqual({
      order: [{ group: [{ id: "ex/a", version: "1.0.0" }] }],
      "order-extensions": [{ group: [{ id: "ex/apt", version: "1.0.0", optional: true }] }],
    });
    expect(chosenOrder(BUILDER_WITH_EXTENSIONS, NONE)).toBeUndefined();
  });
});
