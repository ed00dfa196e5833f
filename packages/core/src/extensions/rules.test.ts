// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfiles spell ${base_image} literally
import { describe, expect, it } from "vitest";
import { CnbpError } from "../errors.js";
import { checkRunDockerfile, ExtensionRuleError, isRootUser, lastUser } from "./rules.js";

const noWarnings = (message: string) => {
  throw new Error(`unexpected warning: ${message}`);
};

describe("checkRunDockerfile", () => {
  it("tells extending, switching, and both", () => {
    expect(
      checkRunDockerfile("ARG base_image\nFROM ${base_image}\nRUN true\n", "run.Dockerfile", noWarnings),
    ).toEqual({
      extend: true,
    });
    expect(checkRunDockerfile("FROM ${base_image}\n", "run.Dockerfile", noWarnings)).toEqual({
      extend: false,
    });
    expect(checkRunDockerfile("FROM localhost:5000/run:2\n", "run.Dockerfile", noWarnings)).toEqual({
      switchTo: "localhost:5000/run:2",
      extend: false,
    });
    expect(
      checkRunDockerfile("FROM localhost:5000/run:2\nUSER 1000\n", "run.Dockerfile", noWarnings),
    ).toEqual({
      switchTo: "localhost:5000/run:2",
      extend: true,
    });
  });

  it("refuses a FROM that is neither, as a CnbpError with a hint", () => {
    const error = (() => {
      try {
        checkRunDockerfile("FROM Not A Ref\n", "generated/x/run.Dockerfile", noWarnings);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ExtensionRuleError);
    expect(error).toBeInstanceOf(CnbpError);
    expect((error as CnbpError).code).toBe("CNBP_EXTENSION_INVALID");
    expect((error as CnbpError).message).toBe(
      'generated/x/run.Dockerfile: line 1: FROM must be FROM ${base_image} (extend the run image) or FROM <image reference> (switch to that image): "Not" is not a valid image reference: repository name "Not" must be lowercase',
    );
    expect((error as CnbpError).hints).toEqual([
      "write the variable as ${base_image}, or name the run image to switch to, e.g. FROM registry.example/run:tag",
    ]);
  });
});

describe("users", () => {
  it("finds the last USER as written, and tells root by name or id, with any group", () => {
    expect(lastUser("FROM ${base_image}\nUSER root\nRUN x\nuser ${user_id}:${group_id}\n")).toEqual({
      user: "${user_id}:${group_id}",
      line: 4,
    });
    expect(lastUser("FROM ${base_image}\nRUN x\n")).toBeUndefined();
    expect(["0", "root", "0:0", "root:1000"].map(isRootUser)).toEqual([true, true, true, true]);
    expect(["", "1000", "1000:0", "rooted", "${user_id}"].map(isRootUser)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
