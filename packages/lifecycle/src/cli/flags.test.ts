import { describe, expect, it } from "vitest";
import { type FlagSpec, flagsForApi, parseFlags, parseGoBool } from "./flags.js";

const SPECS: FlagSpec[] = [
  { name: "layers", kind: "string" },
  { name: "daemon", kind: "bool" },
  { name: "tag", kind: "list" },
  { name: "run", kind: "string", since: "0.12" },
  { name: "stack", kind: "string", until: "0.12" },
];

describe("Go-style flags", () => {
  it("reads -name value, --name=value, booleans and repeated flags, then positionals", () => {
    const parsed = parseFlags(
      "analyzer",
      ["-layers", "/l", "--daemon", "-tag=a:1", "-tag", "b:2", "app:1", "-x"],
      SPECS,
    );
    expect(Object.fromEntries(parsed.values)).toEqual({ layers: "/l", daemon: true, tag: ["a:1", "b:2"] });
    expect(parsed.positionals).toEqual(["app:1", "-x"]);
  });

  it("stops at --", () => {
    expect(parseFlags("p", ["-daemon=false", "--", "-layers"], SPECS)).toEqual({
      values: new Map([["daemon", false]]),
      positionals: ["-layers"],
    });
  });

  it("refuses unknown flags, missing values and bad booleans with exit code 3", () => {
    expect(() => parseFlags("analyzer", ["-nope"], SPECS)).toThrow(
      "analyzer: flag provided but not defined: -nope",
    );
    expect(() => parseFlags("analyzer", ["-layers"], SPECS)).toThrow(
      "analyzer: flag needs an argument: -layers",
    );
    expect(() => parseFlags("analyzer", ["-daemon=maybe"], SPECS)).toThrow(
      'analyzer: invalid boolean value "maybe" for flag -daemon',
    );
    const thrown = (() => {
      try {
        parseFlags("analyzer", ["-nope"], SPECS);
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toMatchObject({ name: "LifecycleError", exitCode: 3 });
  });

  it("defines only the flags of the Platform API in use", () => {
    expect(flagsForApi(SPECS, "0.11").map((s) => s.name)).toEqual(["layers", "daemon", "tag", "stack"]);
    expect(flagsForApi(SPECS, "0.15").map((s) => s.name)).toEqual(["layers", "daemon", "tag", "run"]);
    expect(() => parseFlags("analyzer", ["-run", "/r"], flagsForApi(SPECS, "0.11"))).toThrow(
      "analyzer: flag provided but not defined: -run",
    );
  });

  it("parses booleans as Go does", () => {
    expect(["1", "t", "TRUE", "True", "0", "f", "false", "yes"].map(parseGoBool)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      undefined,
    ]);
  });
});
