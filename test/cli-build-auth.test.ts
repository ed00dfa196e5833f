/**
 * `cnbp build` with a builder and a run image in a registry that demands a login (a docker-registry with
 * htpasswd on a free loopback port, which Docker reaches over plain HTTP): the driver's store pulls both with
 * the docker config's credentials, and says it did; without them the build stops before any container runs.
 */
import { chmod, cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthRegistry,
  basicAuth,
  cnbp,
  copyWithLogin,
  inRegistry,
  publish,
  REPO_ROOT,
  RUN_ID,
  removeCacheVolumes,
  removeImages,
  STACKS,
  stackTables,
  startAuthRegistry,
  writeDockerConfig,
} from "#test-utils";

let registry: AuthRegistry;
let dir: string;
let builder: string;
let runImage: string;
const IMAGE = `localhost/cnbp-test/${RUN_ID}/auth-app:1`;

/** The env of a user whose docker config has `auths` for the registry (or none). */
async function userEnv(name: string, auths: Record<string, { auth: string }>) {
  const config = await writeDockerConfig(dir, name, auths);
  return { CNBP_CACHE_DIR: join(dir, "cache"), CNBP_CONFIG: join(dir, "cnbp.toml"), DOCKER_CONFIG: config };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-build-auth-"));
  registry = await startAuthRegistry("cnbp", `pw-${RUN_ID}`);
  const repo = `${registry.host}/cnbp-test/${RUN_ID}`;
  builder = `${repo}/builder:1`;
  runImage = `${repo}/run:1`;
  await copyWithLogin(inRegistry(STACKS.busybox.run), runImage, registry);
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await writeFile(
    join(dir, "builder.toml"),
    [
      '[[buildpacks]]\nuri = "bp/hello"',
      '[[order]]\n[[order.group]]\nid = "examples/hello"',
      stackTables("busybox", runImage),
      "",
    ].join("\n"),
  );
  const env = await userEnv("creator", { [registry.host]: { auth: basicAuth(registry) } });
  await publish("builder create", builder, join(dir, "builder.toml"), env);
  await cp(join(REPO_ROOT, "examples/hello/app"), join(dir, "app"), { recursive: true });
  await chmod(join(dir, "app"), 0o755);
});

afterAll(async () => {
  await removeImages("docker", [IMAGE, builder, runImage]);
  await removeCacheVolumes("docker", [IMAGE]);
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

const build = async (env: Record<string, string>) =>
  cnbp(["build", IMAGE, "--path", join(dir, "app"), "--builder", builder, "--driver", "docker"], { env });

describe("cnbp build from a registry that demands a login", () => {
  it("stops before any container runs when the docker config has no credentials for it", async () => {
    const r = await build(await userEnv("anonymous", {}));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`driver docker: images.pull: pulling ${builder}:`);
    expect(r.stdout).not.toContain("[cnbp] analyze");
    const left = await execa("docker", ["ps", "-aq", "--filter", `label=io.cnbp.image=${IMAGE}`]);
    expect(left.stdout).toBe("");
  });

  it("pulls the builder and the run image with the docker config's credentials, saying so", async () => {
    const r = await build(await userEnv("logged-in", { [registry.host]: { auth: basicAuth(registry) } }));
    expect(r.exitCode, r.stderr).toBe(0);
    const pulls = r.stdout.split("\n").filter((l) => /^\[cnbp\] pull(ing|ed) /.test(l));
    expect(pulls.map((l) => l.replace(/ in [\d.]+ s$/, ""))).toEqual([
      `[cnbp] pulling ${builder}`,
      `[cnbp] pulled ${builder}`,
      `[cnbp] pulling ${runImage}`,
      `[cnbp] pulled ${runImage}`,
    ]);
    const run = await execa("docker", ["run", "--rm", IMAGE], { reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
  });
});
