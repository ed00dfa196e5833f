/** Helpers shared by the end-to-end tests: the real CLI, the engines, the stacks and the local registry. */
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));
export const REGISTRY = process.env.CNBP_REGISTRY_ADDR ?? "127.0.0.1:5000";
export const DOCKER_SOCK = process.env.CNBP_DOCKER_SOCK ?? "/var/run/docker.sock";

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `cnbp` as a user would, capturing stdout, stderr and the exit code. */
export async function cnbp(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
) {
  const r = await execa(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env,
    reject: false,
    stdin: "ignore",
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr } satisfies CliResult;
}

/** The stacks scripts/stacks/build.sh makes, by their well-known names. */
export const STACKS = {
  debian: {
    build: "localhost/cnbp-stacks/debian-build:bookworm",
    run: "localhost/cnbp-stacks/debian-run:bookworm",
    distro: { name: "debian", version: "12" },
  },
  busybox: {
    build: "localhost/cnbp-stacks/busybox-build:latest",
    run: "localhost/cnbp-stacks/busybox-run:latest",
    distro: { name: "busybox", version: "1.35.0" },
  },
} as const;

/** The stack image's name in the local registry. */
export const inRegistry = (image: string) => `${REGISTRY}/${image.replace(/^localhost\//, "")}`;

export const STACK_USER = { buildUid: 1000, runUid: 1001, gid: 1000 } as const;

export type EngineName = "podman" | "docker";
export const ENGINES: readonly EngineName[] = ["podman", "docker"];

/** Runs an engine's CLI; throws with its stderr when it fails. */
export async function engine(name: EngineName, args: readonly string[]) {
  const r = await execa(name, args, { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`${name} ${args.join(" ")} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** A name unique to this test run, for images and containers the tests make and remove. */
export const RUN_ID = `t${process.pid.toString(36)}${Date.now().toString(36)}`;
export * from "./auth-registry.js";
export * from "./build-output.js";
export * from "./builder.js";
export * from "./leftovers.js";
export * from "./npm-registry.js";
export * from "./registry-image.js";
export * from "./workdir.js";
