/**
 * `cnbp build` with a builder and a run image in a registry that demands a login (a docker-registry with
 * htpasswd on a free loopback port, which Docker reaches over plain HTTP): the driver's store pulls both with
 * the docker config's credentials, and says it did; without them the build stops before any container runs.
 */
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, inRegistry, REPO_ROOT, RUN_ID, STACKS } from "#test-utils";
import {
  type AuthRegistry,
  startAuthRegistry,
} from "../packages/core/src/image/registry/test-support/servers.js";

let registry: AuthRegistry;
let dir: string;
let builder: string;
let runImage: string;
const IMAGE = `localhost/cnbp-test/${RUN_ID}/auth-app:1`;

/** The env of a user whose docker config has `auths` for the registry (or none). */
async function userEnv(name: string, auths: Record<string, { auth: string }>) {
  const config = join(dir, name);
  await mkdir(config);
  await writeFile(join(config, "config.json"), JSON.stringify({ auths }));
  return { CNBP_CACHE_DIR: join(dir, "cache"), CNBP_CONFIG: join(dir, "cnbp.toml"), DOCKER_CONFIG: config };
}

const login = () => Buffer.from(`${registry.username}:${registry.password}`).toString("base64");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-build-auth-"));
  registry = await startAuthRegistry("cnbp", `pw-${RUN_ID}`);
  const repo = `${registry.host}/cnbp-test/${RUN_ID}`;
  builder = `${repo}/builder:1`;
  runImage = `${repo}/run:1`;
  await execa("skopeo", [
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    "--dest-creds",
    `${registry.username}:${registry.password}`,
    `docker://${inRegistry(STACKS.busybox.run)}`,
    `docker://${runImage}`,
  ]);
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await writeFile(
    join(dir, "builder.toml"),
    [
      '[[buildpacks]]\nuri = "bp/hello"',
      '[[order]]\n[[order.group]]\nid = "examples/hello"',
      `[build]\nimage = "${inRegistry(STACKS.busybox.build)}"`,
      `[run]\n[[run.images]]\nimage = "${runImage}"`,
      "",
    ].join("\n"),
  );
  const env = await userEnv("creator", { [registry.host]: { auth: login() } });
  const made = await cnbp(
    ["builder", "create", builder, "--config", join(dir, "builder.toml"), "--publish"],
    {
      env,
    },
  );
  expect(made.exitCode, made.stderr).toBe(0);
  await cp(join(REPO_ROOT, "examples/hello/app"), join(dir, "app"), { recursive: true });
  await chmod(join(dir, "app"), 0o755);
});

afterAll(async () => {
  await execa("docker", ["rmi", "-f", IMAGE, builder, runImage], { reject: false });
  const caches = await execa("docker", ["volume", "ls", "-q", "--filter", `label=io.cnbp.image=${IMAGE}`]);
  for (const v of caches.stdout.split("\n").filter(Boolean))
    await execa("docker", ["volume", "rm", "-f", v], { reject: false });
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
    const r = await build(await userEnv("logged-in", { [registry.host]: { auth: login() } }));
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
