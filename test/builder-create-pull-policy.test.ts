/**
 * `--pull-policy` of `cnbp builder create` and `cnbp buildpack package` when the result goes to the driver's
 * image store: the build image and docker:// buildpackages come from Podman's store, pulled per the policy.
 * The build image's name is both in the registry (with a label saying so) and in Podman (without it), so
 * the builder's labels show which copy it was made from.
 */
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryBackend, RegistryClient, RegistryImageWriter } from "@cnbp/core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnbp, engine, inRegistry, REGISTRY, REPO_ROOT, RUN_ID, STACKS } from "#test-utils";

const client = new RegistryClient();
const BUILD_IMAGE = `${REGISTRY}/cnbp-test/${RUN_ID}/pp-build:1`;
const PACKAGE = `localhost/cnbp-test/${RUN_ID}/pp-hello:1`;
const ABSENT = `localhost/cnbp-test/${RUN_ID}/absent:1`;
const BUILDER = `localhost/cnbp-test/${RUN_ID}/pp-builder:1`;
const FROM = "io.cnbp.test.from";

let dir: string;
let env: Record<string, string>;
const made: string[] = [BUILD_IMAGE, PACKAGE, BUILDER];

async function builderToml(name: string, buildpack: string) {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      `[[buildpacks]]\nuri = "${buildpack}"`,
      '[[order]]\n[[order.group]]\nid = "examples/hello"',
      `[build]\nimage = "${BUILD_IMAGE}"`,
      `[run]\n[[run.images]]\nimage = "${inRegistry(STACKS.busybox.run)}"`,
      "",
    ].join("\n"),
  );
  return file;
}

const create = (config: string, ...flags: string[]) =>
  cnbp(["builder", "create", BUILDER, "--config", config, "--driver", "podman", ...flags], { env });

async function labelsOf(image: string): Promise<Record<string, string>> {
  return JSON.parse(await engine("podman", ["image", "inspect", "--format", "{{json .Labels}}", image]));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-pull-policy-e2e-"));
  await cp(join(REPO_ROOT, "examples/hello/buildpacks/hello"), join(dir, "bp/hello"), { recursive: true });
  await writeFile(join(dir, "hello.toml"), '[buildpack]\nuri = "bp/hello"\n');
  env = { CNBP_CACHE_DIR: join(dir, "cache") };
  // the registry's copy: the busybox build image with one more label
  const base = await new RegistryBackend(client).find(inRegistry(STACKS.busybox.build));
  if (!base) throw new Error("the busybox build image is not in the registry: run scripts/stacks/build.sh");
  await new RegistryImageWriter(client).save(
    {
      format: "oci",
      config: {
        ...base.config,
        config: { ...base.config.config, Labels: { ...base.config.config?.Labels, [FROM]: "registry" } },
      },
      layers: base.manifest.layers.map((descriptor, i) => ({
        descriptor,
        diffId: base.config.rootfs.diff_ids[i] as `sha256:${string}`,
        origin: { kind: "image" as const, image: base },
      })),
    },
    [BUILD_IMAGE],
  );
  // Podman's copy under the same name: the stack's own image, without it
  await engine("podman", ["tag", STACKS.busybox.build, BUILD_IMAGE]);
});

afterAll(async () => {
  for (const image of made) await execa("podman", ["rmi", "-f", image], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

describe("--pull-policy with the driver's image store", () => {
  it("if-not-present and never take the build image from the store; always pulls it again", async () => {
    const config = await builderToml("builder.toml", "bp/hello");
    const present = await create(config, "--pull-policy", "if-not-present");
    expect(present.exitCode, present.stderr).toBe(0);
    expect((await labelsOf(BUILDER))[FROM]).toBeUndefined();
    const never = await create(config, "--pull-policy", "never");
    expect(never.exitCode, never.stderr).toBe(0);
    expect((await labelsOf(BUILDER))[FROM]).toBeUndefined();

    const always = await create(config, "--pull-policy", "always");
    expect(always.exitCode, always.stderr).toBe(0);
    expect((await labelsOf(BUILDER))[FROM]).toBe("registry");
    expect((await labelsOf(BUILD_IMAGE))[FROM]).toBe("registry");
    expect((await readdir(join(dir, "cache"))).filter((f) => f.startsWith("authored-"))).toEqual([]);
  });

  it("pulls always by default, as pack does", async () => {
    await engine("podman", ["tag", STACKS.busybox.build, BUILD_IMAGE]);
    const config = await builderToml("builder.toml", "bp/hello");
    const r = await create(config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await labelsOf(BUILDER))[FROM]).toBe("registry");
  });

  it("takes a docker:// buildpackage only the store has with never, and refuses one it lacks", async () => {
    const packaged = await cnbp(
      ["buildpack", "package", PACKAGE, "-c", join(dir, "hello.toml"), "--driver", "podman"],
      { env },
    );
    expect(packaged.exitCode, packaged.stderr).toBe(0);
    const config = await builderToml("package.toml", `docker://${PACKAGE}`);
    const r = await create(config, "--pull-policy", "never");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(
      Object.keys(JSON.parse((await labelsOf(BUILDER))["io.buildpacks.buildpack.layers"] ?? "{}")),
    ).toEqual(["examples/hello"]);

    const absent = await builderToml("absent.toml", `docker://${ABSENT}`);
    const a = await create(absent, "--pull-policy", "never");
    expect(a.exitCode).toBe(1);
    expect(a.stderr).toBe(
      `error: ${absent}:2: buildpacks[0].uri image ${ABSENT} is not in podman's image store (--pull-policy never): pull it first, or give --pull-policy if-not-present`,
    );
    const dependency = join(dir, "dependency.toml");
    await writeFile(
      dependency,
      `[buildpack]\nuri = "bp/hello"\n[[dependencies]]\nuri = "docker://${ABSENT}"\n`,
    );
    const p = await cnbp(
      [
        "buildpack",
        "package",
        `${PACKAGE}-x`,
        "-c",
        dependency,
        "--driver",
        "podman",
        "--pull-policy",
        "never",
      ],
      { env },
    );
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toBe(
      `error: ${dependency}:4: dependencies[0].uri image ${ABSENT} is not in podman's image store (--pull-policy never): pull it first, or give --pull-policy if-not-present`,
    );
  });

  it("refuses a policy that is none of always, if-not-present and never", async () => {
    const r = await create(join(dir, "builder.toml"), "--pull-policy", "sometimes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      "error: option '--pull-policy <policy>' argument 'sometimes' is invalid. Allowed choices are always, if-not-present, never.",
    );
  });
});
