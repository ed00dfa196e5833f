import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { execDOutput } from "./exec-d-output.js";

const messages = (text: string) =>
  parseSpec(execDOutput, text, "exec.d/memory").problems.map((p) => formatProblem(p));

const OUTPUT = `
DATABASE_POOL = "10"
JAVA_TOOL_OPTIONS = "-XX:MaxRAMPercentage=80"
EMPTY = ""
`;

describe("exec.d output", () => {
  it("accepts a flat table of string values", () => {
    const parsed = parseSpec(execDOutput, OUTPUT, "exec.d/memory");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual({
      DATABASE_POOL: "10",
      JAVA_TOOL_OPTIONS: "-XX:MaxRAMPercentage=80",
      EMPTY: "",
    });
  });

  it("accepts no output at all", () => {
    expect(parseSpec(execDOutput, "", "exec.d/memory")).toEqual({ ok: true, value: {}, problems: [] });
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(execDOutput, OUTPUT, "exec.d/memory").value;
    const again = parseSpec(execDOutput, serializeSpec(execDOutput, first ?? {}), "exec.d/memory").value;
    expect(again).toEqual(first);
  });

  it("refuses values that are not strings", () => {
    expect(messages(`DATABASE_POOL = 10\nDEBUG = true\nNAME = "ok"\n`)).toEqual([
      `exec.d/memory: DATABASE_POOL must be a string, found an integer 10 (quote it: "10")`,
      "exec.d/memory: DEBUG must be a string, found a boolean true",
    ]);
  });

  it("refuses names that cannot be environment variables", () => {
    expect(messages(`"A=B" = "x"\n"" = "y"\n`)).toEqual([
      `exec.d/memory: "A=B" is not a valid environment variable name`,
      `exec.d/memory: "" is not a valid environment variable name`,
    ]);
  });
});
