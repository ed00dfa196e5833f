import { describe, expect, it } from "vitest";
import { detectionOrder } from "./detection-order.js";

const DIFF = `sha256:${"a".repeat(64)}`;
const leaf = { api: "0.10", layerDiffID: DIFF };

describe("detectionOrder", () => {
  it("opens composites, infers the one version the image has, and marks a composite that names an ancestor", () => {
    const layers = {
      "a/outer": {
        "1.0.0": { ...leaf, order: [{ group: [{ id: "a/inner" }, { id: "a/leaf", optional: true }] }] },
      },
      "a/inner": { "2.0.0": { ...leaf, order: [{ group: [{ id: "a/outer", version: "1.0.0" }] }] } },
      "a/leaf": { "1.0.0": leaf, "1.1.0": leaf },
    };
    expect(detectionOrder([{ group: [{ id: "a/outer", version: "1.0.0" }] }], layers, undefined)).toEqual([
      {
        group: [
          {
            id: "a/outer",
            version: "1.0.0",
            optional: false,
            order: [
              {
                group: [
                  {
                    id: "a/inner",
                    version: "2.0.0",
                    optional: false,
                    order: [{ group: [{ id: "a/outer", version: "1.0.0", optional: false, cyclic: true }] }],
                  },
                  { id: "a/leaf", optional: true },
                ],
              },
            ],
          },
        ],
      },
    ]);
  });

  it("stops at the depth asked for", () => {
    const layers = { "a/outer": { "1.0.0": { ...leaf, order: [{ group: [{ id: "a/leaf" }] }] } } };
    const order = [{ group: [{ id: "a/outer", version: "1.0.0" }] }];
    expect(detectionOrder(order, layers, 0)).toEqual([
      { group: [{ id: "a/outer", version: "1.0.0", optional: false }] },
    ]);
    expect(detectionOrder(order, layers, 1)[0]?.group[0]?.order).toEqual([
      { group: [{ id: "a/leaf", optional: false }] },
    ]);
  });
});
