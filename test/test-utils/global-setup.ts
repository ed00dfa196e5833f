/**
 * Before the end-to-end tests: build the workspace (the tests run the real CLI from dist/) and check that the
 * engines, the registry and the stacks are there. Our CI starts all of them, so anything missing fails the run
 * with the command that fixes it, instead of skipping tests.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { DOCKER_SOCK, REGISTRY, REPO_ROOT, STACKS } from "./index.js";

const FIX = "run `bash scripts/bootstrap.sh` (installs and starts the engines, registry and stacks)";

export default async function setup(): Promise<() => Promise<void>> {
  await execa("pnpm", ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
  // the cnbp processes the tests start share Podman API services in a directory of this run's, ended at the end
  // (a user's outlive them until idle: a test run leaves none behind)
  const services = await mkdtemp(join(tmpdir(), "cnbp-e2e-podman-"));
  process.env.CNBP_PODMAN_SERVICE_DIR = services;
  const problems: string[] = [];
  const check = async (what: string, cmd: string, args: string[]) => {
    const r = await execa(cmd, args, { reject: false, stdin: "ignore", timeout: 20_000 });
    if (r.exitCode !== 0)
      problems.push(`${what}: \`${cmd} ${args.join(" ")}\` failed: ${r.stderr || r.stdout}`.trim());
  };
  await check("Podman", "podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
  await check("Docker Engine", "curl", ["-fsS", "--unix-socket", DOCKER_SOCK, "http://localhost/_ping"]);
  await check("registry", "curl", ["-fsS", `http://${REGISTRY}/v2/`]);
  for (const stack of Object.values(STACKS)) {
    for (const image of [stack.build, stack.run]) {
      await check(`stack ${image} in Podman`, "podman", ["image", "exists", image]);
      await check(`stack ${image} in Docker`, "docker", ["image", "inspect", "--format", "{{.Id}}", image]);
    }
  }
  if (problems.length > 0) throw new Error(`the end-to-end tests need:\n- ${problems.join("\n- ")}\n${FIX}`);
  return async () => {
    await execa("pkill", ["-f", `podman system service .*unix://${services}/`], { reject: false });
    await rm(services, { recursive: true, force: true });
  };
}
