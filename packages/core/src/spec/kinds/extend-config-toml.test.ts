import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { extendConfigToml } from "./extend-config-toml.js";

const messages = (text: string) =>
  parseSpec(extendConfigToml, text, "extend-config.toml").problems.map((p) => formatProblem(p));

const CONFIG = `
[[build.args]]
  name = "PG_MAJOR"
  value = "16"

[[run.args]]
  name = "PG_MAJOR"
  value = "16"
[[run.args]]
  name = "EXTRA"
  value = ""
`;

describe("extend-config.toml", () => {
  it("accepts build and run args", () => {
    const parsed = parseSpec(extendConfigToml, CONFIG, "extend-config.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.build?.args).toEqual([{ name: "PG_MAJOR", value: "16" }]);
    expect(parsed.value?.run?.args?.map((a) => a.name)).toEqual(["PG_MAJOR", "EXTRA"]);
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(extendConfigToml, CONFIG, "extend-config.toml").value;
    const again = parseSpec(
      extendConfigToml,
      serializeSpec(extendConfigToml, first),
      "extend-config.toml",
    ).value;
    expect(again).toEqual(first);
  });

  it("names missing and badly typed fields", () => {
    expect(messages(`[[build.args]]\nvalue = "1"\n[[run.args]]\nname = "N"\nvalue = 16\n`)).toEqual([
      "extend-config.toml: build.args[0].name is required",
      `extend-config.toml: run.args[0].value must be a string, found an integer 16 (quote it: "16")`,
    ]);
  });

  it("refuses the args the lifecycle sets itself", () => {
    expect(
      messages(
        `[[build.args]]\nname = "build_id"\nvalue = "1"\n[[run.args]]\nname = "OK"\nvalue = "1"\n[[run.args]]\nname = "user_id"\nvalue = "0"\n`,
      ),
    ).toEqual([
      `extend-config.toml: build.args[0].name "build_id" is reserved (the lifecycle sets build_id, user_id and group_id)`,
      `extend-config.toml: run.args[1].name "user_id" is reserved (the lifecycle sets build_id, user_id and group_id)`,
    ]);
  });
});
