import { describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { negotiatePlatformApi } from "./platform-api.js";

const apis = (supported: string[], deprecated: string[] = []) => ({ supported, deprecated });

describe("negotiatePlatformApi", () => {
  it("takes the newest version cnbp and the lifecycle both speak", () => {
    expect(negotiatePlatformApi("builder b", apis(["0.10", "0.11", "0.12", "0.13"]))).toBe("0.13");
    expect(negotiatePlatformApi("builder b", apis(["0.16"], ["0.14"]))).toBe("0.14");
  });

  it("takes the newest version every lifecycle speaks, with a lifecycle image", () => {
    expect(negotiatePlatformApi("b", apis(["0.12", "0.13", "0.14"]), apis(["0.13", "0.15"]))).toBe("0.13");
  });

  it("says what each side speaks when there is no common version", () => {
    const fail = () => negotiatePlatformApi("builder old", apis(["0.9", "0.10"]));
    expect(fail).toThrow(CnbpError);
    expect(fail).toThrow(
      "builder old: its lifecycle supports Platform API 0.9, 0.10, and cnbp speaks 0.12, 0.13, 0.14, 0.15",
    );
    expect(() =>
      negotiatePlatformApi("builder b and lifecycle image l", apis(["0.12"]), apis(["0.13"])),
    ).toThrow(
      "builder b and lifecycle image l: their lifecycles support Platform API 0.12 and 0.13, and cnbp speaks 0.12, 0.13, 0.14, 0.15",
    );
    expect(() => negotiatePlatformApi("builder empty", apis([]))).toThrow(
      "builder empty: its metadata names no Platform API its lifecycle supports",
    );
  });
});
