import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, type SpecContext, serializeSpec } from "../file-kind.js";
import { runToml } from "./run-toml.js";

const messages = (text: string, ctx: SpecContext = {}) =>
  parseSpec(runToml, text, "run.toml", ctx).problems.map(formatProblem);

const RUN = `
[[images]]
  image = "registry.example/run:jammy"
  mirrors = ["mirror.example/run:jammy", "ghcr.io/example/run:jammy"]
[[images]]
  image = "registry.example/run-tiny:jammy"
`;

describe("run.toml", () => {
  it("reads run images and their mirrors, first = default", () => {
    const parsed = parseSpec(runToml, RUN, "run.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.images).toEqual([
      {
        image: "registry.example/run:jammy",
        mirrors: ["mirror.example/run:jammy", "ghcr.io/example/run:jammy"],
      },
      { image: "registry.example/run-tiny:jammy" },
    ]);
  });

  it("round-trips through TOML", () => {
    const first = parseSpec(runToml, RUN, "run.toml").value;
    const again = parseSpec(runToml, serializeSpec(runToml, first), "run.toml").value;
    expect(again).toEqual(first);
  });

  it("allows mirrors only when image is set", () => {
    const text = `${RUN}\n[[images]]\nmirrors = ["mirror.example/run:jammy"]\n`;
    expect(messages(text)).toEqual(["run.toml: images[2].mirrors is only allowed when image is set"]);
  });

  it("names invalid image references", () => {
    const text = `[[images]]\nimage = "registry.example/Run:jammy"\nmirrors = ["mirror.example/run:"]\n`;
    expect(messages(text)).toEqual([
      `run.toml: images[0].image "registry.example/Run:jammy" is not a valid image reference (repository name "Run" must be lowercase)`,
      `run.toml: images[0].mirrors[0] "mirror.example/run:" is not a valid image reference (tag "" may only have letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-'))`,
    ]);
  });

  it("warns when the analyzer would find no run image", () => {
    expect(messages("")).toEqual(["run.toml: warning: images is empty: the analyzer needs -run-image"]);
    expect(messages(`[[images]]\n[[images]]\nimage = "run:jammy"\n`)).toEqual([
      "run.toml: warning: images[0].image is missing: the analyzer takes the first entry's image (or -run-image)",
    ]);
  });

  it("warns that lifecycles before Platform API 0.12 read stack.toml instead", () => {
    expect(messages(RUN, { platformApi: "0.11" })).toEqual([
      "run.toml: warning: needs Platform API 0.12 or newer (older lifecycles read stack.toml)",
    ]);
  });
});
