/**
 * The launcher in a busybox run container (no libc, no bash), as an app image has it: the tree at
 * /cnb/lifecycle, /cnb/process links, and a layers dir with config/metadata.toml. The app becomes PID 1.
 */
import { chmod, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, RUN_ID, STACKS } from "#test-utils";

const dir = join(tmpdir(), `cnbp-launcher-e2e-${RUN_ID}`);
/** The tree the workspace build makes (the e2e global setup builds it). */
const tree = join(REPO_ROOT, "packages/lifecycle/dist/cnb-lifecycle");
/** Prints PID 1's command line, the args, the cwd and the variables the buildpacks set. */
const REPORT = "echo \"$(tr '\\0' ' ' </proc/1/cmdline)| $* | $(pwd) | $GREETING | $TOKEN\"";

async function writeFiles(root: string, files: Record<string, string>, mode = 0o644) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    await chmod(join(root, path), mode);
  }
}

const start = (entrypoint: string, args: string[] = []) =>
  execa(
    "podman",
    [
      "run",
      "--rm",
      ...["-v", `${tree}:/cnb/lifecycle:ro`, "-v", `${join(dir, "process")}:/cnb/process:ro`],
      ...["-v", `${join(dir, "layers")}:/layers:ro`, "-v", `${join(dir, "workspace")}:/workspace:ro`],
      ...["-e", "CNB_PLATFORM_API=0.15", "-e", "PATH=/cnb/process:/cnb/lifecycle:/bin"],
      ...["--entrypoint", entrypoint, STACKS.busybox.run, ...args],
    ],
    { reject: false },
  );

beforeAll(async () => {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await mkdir(join(dir, "process"));
  for (const type of ["web", "worker"]) await symlink("/cnb/lifecycle/launcher", join(dir, "process", type));
  await writeFiles(join(dir, "layers"), {
    "config/metadata.toml": [
      '[[buildpacks]]\nid = "ex/app"\napi = "0.10"',
      `[[processes]]\ntype = "web"\ncommand = ["sh", "-c", ${JSON.stringify(REPORT)}, "sh"]\nargs = ["default"]\nbuildpack-id = "ex/app"`,
      '[[processes]]\ntype = "worker"\ncommand = ["work"]\nargs = ["--queue", "jobs"]\nbuildpack-id = "ex/app"\nworking-dir = "/layers"',
    ].join("\n\n"),
    "ex_app/tools/env.launch/GREETING.default": "hello",
    "ex_app/tools/env.launch/worker/GREETING.override": "hi worker",
  });
  await writeFiles(
    join(dir, "layers"),
    {
      "ex_app/tools/bin/work": `#!/bin/sh\n${REPORT}\n`,
      "ex_app/tools/exec.d/token": "#!/bin/sh\necho 'TOKEN = \"from exec.d\"' >&3\n",
    },
    0o755,
  );
  await mkdir(join(dir, "workspace"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the launcher in a busybox run image", () => {
  it("replaces itself with the web process as PID 1, with env files and exec.d output", async () => {
    expect(await start("/cnb/process/web")).toMatchObject({
      exitCode: 0,
      stdout: `sh -c ${REPORT} sh default | default | /workspace | hello | from exec.d`,
    });
  });

  it("starts another process type in its working dir, user args replacing its args", async () => {
    expect(await start("/cnb/process/worker", ["--queue", "urgent"])).toMatchObject({
      exitCode: 0,
      stdout:
        "/bin/sh /layers/ex_app/tools/bin/work --queue urgent | --queue urgent | /layers | hi worker | from exec.d",
    });
  });

  it("runs a user-defined command directly, and explains that a shell process needs bash", async () => {
    expect((await start("/cnb/lifecycle/launcher", ["--", "work", "x"])).stdout).toBe(
      "/bin/sh /layers/ex_app/tools/bin/work x | x | /workspace | hello | from exec.d",
    );
    expect(await start("/cnb/lifecycle/launcher", ["work"])).toMatchObject({
      exitCode: 82,
      stderr:
        "ERROR: the given process runs through bash, and this image has no /bin/bash: start a direct process instead (/cnb/lifecycle/launcher -- <command> [args...])",
    });
  });
});
