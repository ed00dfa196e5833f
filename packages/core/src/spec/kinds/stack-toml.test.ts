import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { stackToml } from "./stack-toml.js";

const OLD: SpecContext = { platformApi: "0.11" };
const messages = (text: string, ctx: SpecContext = OLD) =>
  parseSpec(stackToml, text, "stack.toml", ctx).problems.map(formatProblem);

const STACK = `
[run-image]
  image = "registry.example/run:bionic"
  mirrors = ["mirror.example/run:bionic"]
`;

describe("stack.toml", () => {
  it("reads the legacy run image and its mirrors", () => {
    const parsed = parseSpec(stackToml, STACK, "stack.toml", OLD);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.["run-image"]).toEqual({
      image: "registry.example/run:bionic",
      mirrors: ["mirror.example/run:bionic"],
    });
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(stackToml, STACK, "stack.toml", OLD).value;
    const again = parseSpec(stackToml, serializeSpec(stackToml, first), "stack.toml", OLD).value;
    expect(again).toEqual(first);
  });

  it("allows mirrors only when image is set", () => {
    expect(messages(`[run-image]\nmirrors = ["mirror.example/run:bionic"]\n`)).toEqual([
      "stack.toml: run-image.mirrors is only allowed when image is set",
      "stack.toml: warning: run-image.image is missing: the analyzer needs -run-image",
    ]);
  });

  it("names an invalid image reference", () => {
    expect(messages(`[run-image]\nimage = "run image"\n`)).toEqual([
      `stack.toml: run-image.image "run image" is not a valid image reference (repository name component "run image" may only have lowercase letters, digits and separators (., _, __, -))`,
    ]);
  });

  it("warns that lifecycles from Platform API 0.12 on read run.toml instead", () => {
    expect(messages(STACK, { platformApi: "0.12" })).toEqual([
      "stack.toml: warning: is not read from Platform API 0.12 on: give run.toml",
    ]);
  });
});
