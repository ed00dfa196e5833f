// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfiles spell ${base_image} literally
import { describe, expect, it } from "vitest";
import { argNames, DockerfileSyntaxError, fromImage, parseDockerfile } from "./dockerfile.js";

describe("parseDockerfile", () => {
  it("reads keywords in any case, joins continuation lines, drops comments and blank lines", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "arg base_image",
      "",
      "From ${base_image}",
      "# a comment",
      "RUN apt-get update && \\",
      "  # a comment inside the continuation",
      "  apt-get install -y curl \\   ",
      "",
      "  && rm -rf /var/lib/apt/lists/*",
      "user ${user_id}:${group_id}",
    ].join("\n");
    expect(parseDockerfile(text)).toEqual([
      { keyword: "ARG", args: "base_image", line: 2 },
      { keyword: "FROM", args: "${base_image}", line: 4 },
      {
        keyword: "RUN",
        args: "apt-get update &&   apt-get install -y curl   && rm -rf /var/lib/apt/lists/*",
        line: 6,
      },
      { keyword: "USER", args: "${user_id}:${group_id}", line: 11 },
    ]);
  });

  it("honours the escape directive, and only at the top", () => {
    expect(parseDockerfile("# escape=`\nFROM img\nRUN dir c:\\ `\n  /w\n")).toEqual([
      { keyword: "FROM", args: "img", line: 2 },
      { keyword: "RUN", args: "dir c:\\   /w", line: 3 },
    ]);
    // after an instruction, `# escape=` is a comment
    expect(parseDockerfile("FROM img\n# escape=`\nRUN a `\n")).toEqual([
      { keyword: "FROM", args: "img", line: 1 },
      { keyword: "RUN", args: "a `", line: 3 },
    ]);
  });

  it("refuses what it cannot read, naming the line", () => {
    const reason = (text: string) => {
      try {
        parseDockerfile(text);
      } catch (err) {
        expect(err).toBeInstanceOf(DockerfileSyntaxError);
        return (err as Error).message;
      }
      return "parsed";
    };
    expect(reason("FROM a\nFETCH b\n")).toBe("line 2: unknown instruction FETCH");
    expect(reason("FROM a\nRUN\n")).toBe("line 2: RUN needs arguments");
    expect(reason("# escape=x\nFROM a\n")).toBe('line 1: escape directive must be \\ or `, found "x"');
    expect(reason("FROM a\nRUN <<EOF\necho hi\nEOF\n")).toBe(
      "line 2: RUN uses a heredoc (<<EOF), which cnbp's lifecycle does not support: put the commands on the RUN line",
    );
    expect(reason("FROM a\nRUN cat <<< 'here string'\n")).toBe("parsed");
  });
});

describe("instruction arguments", () => {
  it("finds the image of FROM past its flags, and the names ARG declares", () => {
    const [from, arg] = parseDockerfile('FROM --platform=linux/amd64 run:jammy AS base\nARG a=1 b c="x y"\n');
    expect(from && fromImage(from)).toBe("run:jammy");
    expect(arg && argNames(arg)).toEqual(["a", "b", "c"]);
  });
});
