/**
 * `cnbp builder create` into Docker's image store from a registry that demands a login: a docker-registry with
 * htpasswd on a free loopback port (Docker takes 127.0.0.0/8 over plain HTTP) holds the build image and a
 * buildpackage. The store pulls both with the credentials of the user's docker config; without them, or with
 * wrong ones, the build image's line says why and nothing is made.
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthRegistry,
  basicAuth,
  cnbp,
  copyWithLogin,
  engine,
  inRegistry,
  REPO_ROOT,
  RUN_ID,
  STACKS,
  startAuthRegistry,
  writeDockerConfig,
} from "#test-utils";

let registry: AuthRegistry;
let dir: string;
let buildImage: string;
let buildpackage: string;
const BUILDER = `localhost/cnbp-test/${RUN_ID}/auth-builder:1`;

/** The env of a user whose docker config has `auths` for the registry, or none. */
async function userEnv(name: string, auths: Record<string, { auth: string }>) {
  return { CNBP_CACHE_DIR: join(dir, "cache"), DOCKER_CONFIG: await writeDockerConfig(dir, name, auths) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-store-auth-e2e-"));
  registry = await startAuthRegistry("cnbp", `pw-${RUN_ID}`);
  const repo = `${registry.host}/cnbp-test/${RUN_ID}`;
  buildImage = `${repo}/build:1`;
  buildpackage = `${repo}/hello:1`;
  await copyWithLogin(inRegistry(STACKS.busybox.build), buildImage, registry);
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await writeFile(join(dir, "package.toml"), '[buildpack]\nuri = "bp/hello"\n');
  await writeFile(
    join(dir, "builder.toml"),
    [
      `[[buildpacks]]\nuri = "docker://${buildpackage}"`,
      '[[order]]\n[[order.group]]\nid = "examples/hello"',
      `[build]\nimage = "${buildImage}"`,
      `[run]\n[[run.images]]\nimage = "${inRegistry(STACKS.busybox.run)}"`,
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  for (const image of [BUILDER, buildImage, buildpackage]) {
    await execa("docker", ["rmi", "-f", image], { reject: false });
  }
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("builder create into Docker's image store from a registry that demands a login", () => {
  it("pulls the build image and the docker:// buildpackage with the docker config's credentials", async () => {
    const env = await userEnv("logged-in", { [registry.host]: { auth: basicAuth(registry) } });
    const pkg = await cnbp(
      ["buildpack", "package", buildpackage, "--config", join(dir, "package.toml"), "--publish"],
      { env },
    );
    expect(pkg.exitCode, pkg.stderr).toBe(0);

    const r = await cnbp(
      ["builder", "create", BUILDER, "--config", join(dir, "builder.toml"), "--driver", "docker"],
      { env },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split("\n").at(-1)).toMatch(
      new RegExp(`^builder ${BUILDER} written to docker's image store \\(sha256:[a-f0-9]{64}\\)`),
    );
    // both came into Docker from the registry (pull policy always), and the builder holds the buildpack
    const ids = await engine("docker", ["image", "inspect", "--format", "{{.Id}}", buildImage, buildpackage]);
    expect(ids.split("\n")).toHaveLength(2);
    const order = await engine("docker", [
      "image",
      "inspect",
      "--format",
      '{{index .Config.Labels "io.buildpacks.buildpack.order"}}',
      BUILDER,
    ]);
    expect(JSON.parse(order)).toEqual([{ group: [{ id: "examples/hello", version: "0.1.0" }] }]);
  });

  it("fails at build.image, with the engine's reason, when the docker config has no credentials for it", async () => {
    await execa("docker", ["rmi", "-f", buildImage, buildpackage], { reject: false });
    const env = await userEnv("anonymous", {});
    const config = join(dir, "builder.toml");
    const r = await cnbp(["builder", "create", `${BUILDER}-anon`, "--config", config, "--driver", "docker"], {
      env,
    });
    expect(r.exitCode).toBe(1);
    const [host, path] = [
      registry.host,
      buildImage.slice(registry.host.length + 1).replace(":", "/manifests/"),
    ];
    expect(r.stderr).toBe(
      `error: ${config}:7: build.image cannot read image ${buildImage}: driver docker: images.pull: pulling ${buildImage}: Head "http://${host}/v2/${path}": no basic auth credentials`,
    );
    expect((await execa("docker", ["image", "inspect", `${BUILDER}-anon`], { reject: false })).exitCode).toBe(
      1,
    );
  });

  it("says which registry refused the credentials the docker config has, and how to give others", async () => {
    const wrong = basicAuth({ username: registry.username, password: `not-${registry.password}` });
    const env = await userEnv("wrong", { [registry.host]: { auth: wrong } });
    const config = join(dir, "builder.toml");
    const r = await cnbp(
      ["builder", "create", `${BUILDER}-wrong`, "--config", config, "--driver", "docker"],
      {
        env,
      },
    );
    expect(r.exitCode).toBe(1);
    const host = registry.host;
    expect(r.stderr).toBe(
      `error: ${config}:7: build.image the registry ${host} refused to let the image store pull ${buildImage}: log in to it (docker login ${host}, or a credential helper in the docker config) or set CNB_REGISTRY_AUTH (driver docker: images.pull: pulling ${buildImage}: unauthorized: authentication required)`,
    );
    expect(
      (await execa("docker", ["image", "inspect", `${BUILDER}-wrong`], { reject: false })).exitCode,
    ).toBe(1);
  });
});
