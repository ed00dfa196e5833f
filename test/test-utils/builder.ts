/** Setting up what the build tests build with: builder.toml and its stack tables, and builders and packages published by cnbp. */
import { chmod, mkdtemp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import { type CliResult, cnbp, engine, inRegistry, REPO_ROOT, STACKS } from "./index.js";

/** builder.toml's [build] and [run] tables for a test stack as the local registry holds it (or another run image). */
export const stackTables = (stack: keyof typeof STACKS, runImage = inRegistry(STACKS[stack].run)) =>
  `[build]\nimage = "${inRegistry(STACKS[stack].build)}"\n[run]\n[[run.images]]\nimage = "${runImage}"`;

/**
 * A builder.toml on a test stack: the buildpacks in the dirs `buildpacks`, one order group of the ids `order`
 * (each at version 1.0.0), and any more tables (`extra`: extensions and their order).
 */
export const builderConfig = (
  stack: keyof typeof STACKS,
  buildpacks: readonly string[],
  order: readonly string[],
  extra: readonly string[] = [],
) =>
  [
    ...buildpacks.map((uri) => `[[buildpacks]]\nuri = "${uri}"`),
    `[[order]]\n${order.map((id) => `[[order.group]]\nid = "${id}"\nversion = "1.0.0"`).join("\n")}`,
    ...extra,
    stackTables(stack),
    "",
  ].join("\n");

/** Runs `cnbp` for a test's set-up; throws with its output when it fails. */
export async function cnbpOk(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const r = await cnbp(args, opts);
  if (r.exitCode !== 0)
    throw new Error(`cnbp ${args.join(" ")} failed (exit code ${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** `cnbp <kind> create|package <image> --config <config> --publish`: a builder or package in a registry. */
export const publish = (
  command: "builder create" | "buildpack package" | "extension package",
  image: string,
  config: string,
  env: Record<string, string>,
) => cnbpOk([...command.split(" "), image, "--config", config, "--publish"], { env });

/** `cnbp builder create`'s lines with the digests and sizes of what it wrote taken out. */
export const writtenLines = (stdout: string) =>
  stdout.split("\n").map((l) => l.replace(/^(\S+)\s+\S+\s+\d+ /, "$1 "));

/**
 * Pulls a builder from the local registry into Podman and runs its detector on the example app as the build
 * user, with layers in a new dir below `dir`: resolves to the group.toml it wrote. The caller removes the image.
 */
export async function detectWithBuilder(image: string, dir: string): Promise<string> {
  await engine("podman", ["pull", "--tls-verify=false", image]);
  const layers = await mkdtemp(join(dir, "layers-"));
  await chmod(layers, 0o777);
  const r = await execa(
    "podman",
    [
      ...["run", "--rm", "--user", "1000:1000", "-e", "CNB_PLATFORM_API=0.15"],
      ...["-v", `${join(REPO_ROOT, "examples/hello/app")}:/workspace:ro`, "-v", `${layers}:/layers`],
      ...[image, "/cnb/lifecycle/detector"],
    ],
    { reject: false },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  return readFile(join(layers, "group.toml"), "utf8");
}
