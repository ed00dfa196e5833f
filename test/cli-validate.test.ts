/** `cnbp validate` as a user runs it: the real CLI on real files, exact output and exit codes. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp } from "#test-utils";

let dir: string;
const write = async (name: string, text: string) => {
  const path = join(dir, name);
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-validate-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cnbp validate", () => {
  it("validates every CNB file under a directory and exits 0", async () => {
    const r = await cnbp(["validate", "examples/hello"]);
    expect(r).toEqual({
      exitCode: 0,
      stdout: [
        "ok examples/hello/app/project.toml (project.toml)",
        "ok examples/hello/builder.toml (builder.toml)",
        "ok examples/hello/buildpacks/hello/buildpack.toml (buildpack.toml)",
      ].join("\n"),
      stderr: "",
    });
  });

  it("prints every problem of an invalid file and exits 1", async () => {
    const file = await write(
      "bad/buildpack.toml",
      `api = "0.10"\n[buildpack]\nid = "My BP"\nversion = "1.0"\n`,
    );
    const r = await cnbp(["validate", file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        `${file}: buildpack.id "My BP" is not a valid id (letters, digits, '.', '/', '-')`,
        `${file}: buildpack.version "1.0" is not a valid version (<X>.<Y>.<Z>, e.g. "1.2.0", no leading zeros)`,
      ].join("\n"),
    );
  });

  it("names the line and column of a TOML syntax error", async () => {
    const file = await write("syntax/builder.toml", `[build]\nimage = "a"\n[[run.images]\n`);
    const r = await cnbp(["validate", file]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${file}:3:\\d+: is not valid TOML: `));
    expect(r.stderr).not.toContain("    at ");
  });

  it("stops at the first invalid file", async () => {
    const first = await write("two/a/buildpack.toml", `api = "0.10"\n[buildpack]\nversion = "1.0.0"\n`);
    await write("two/b/buildpack.toml", `api = "0.10"\n[buildpack]\nid = "x y"\nversion = "1.0.0"\n`);
    const r = await cnbp(["validate", join(dir, "two")]);
    expect(r).toEqual({ exitCode: 1, stdout: "", stderr: `${first}: buildpack.id is required` });
  });

  it("prints the reports as JSON with --json", async () => {
    const file = await write(
      "json/buildpack.toml",
      `api = "0.4"\n[buildpack]\nid = "a/b"\nversion = "1.0.0"\n`,
    );
    const r = await cnbp(["validate", "--json", file]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      files: [
        {
          file,
          kind: "buildpack.toml",
          valid: true,
          problems: [
            {
              file,
              path: ["api"],
              message: `"0.4" is outside the Buildpack APIs cnbp runs (0.7 to 0.12)`,
              severity: "warning",
            },
          ],
        },
      ],
    });
  });

  it("validates a file whose name does not tell its kind with --kind", async () => {
    const file = await write("layers/node.toml", 'launch = true\n[metadata]\nversion = "20"\n');
    const r = await cnbp(["validate", "--kind", "layer.toml", file]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `${file}: launch is not allowed at the top level: it belongs under [types]`,
    });
  });

  it("refuses a file it cannot recognise, with what to do", async () => {
    const file = await write("misc/notes.toml", "a = 1\n");
    const r = await cnbp(["validate", file]);
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: `error: ${file}: cannot tell which CNB file this is from its name\n  hint: pass --kind <kind> (see \`cnbp validate --list-kinds\`)`,
    });
  });

  it("refuses an unknown --kind and a missing path as usage errors", async () => {
    const kind = await cnbp(["validate", "--kind", "nope.toml", "examples"]);
    expect(kind.exitCode).toBe(2);
    expect(kind.stderr).toMatch(
      /^error: --kind "nope.toml" is not a CNB file kind cnbp knows\n {2}hint: use one of: buildpack.toml, /,
    );
    const missing = await cnbp(["validate", "no/such/dir"]);
    expect(missing).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "error: no/such/dir: no such file or directory",
    });
  });

  it("answers --help and --version", async () => {
    const help = await cnbp(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("validate [options] [paths...]");
    const version = await cnbp(["--version"]);
    expect(version).toEqual({ exitCode: 0, stdout: "0.1.0", stderr: "" });
  });
});
