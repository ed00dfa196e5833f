/**
 * Whole builds the way platforms run them. A trusted builder: the creator from the /cnb/lifecycle tree inside a
 * container of the busybox build image (no libc, no bash), two shell-script buildpacks, the app image pushed
 * to the local registry, then run under Podman for each of its process types. A second build restores the
 * cache and reuses every layer. An untrusted one (Debian stack): each phase in its own container, only the
 * registry phases as root.
 */
import { chmod, chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inRegistry, REGISTRY, REPO_ROOT, RUN_ID, STACKS } from "#test-utils";

const TREE = join(REPO_ROOT, "packages/lifecycle/dist/cnb-lifecycle");
const dir = join(tmpdir(), `cnbp-creator-${RUN_ID}`);
const IMAGE = `${REGISTRY}/cnbp-test/${RUN_ID}/created:1`;

/** Two buildpacks: a runtime that later buildpacks build with and apps run with, and the app's. */
const FILES: Record<string, string> = {
  "buildpacks/ex_runtime/1.0.0/buildpack.toml":
    'api = "0.10"\n[buildpack]\nid = "ex/runtime"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "buildpacks/ex_runtime/1.0.0/bin/detect":
    '#!/bin/sh\nprintf "[[provides]]\\nname = \\"runtime\\"\\n" > "$2"\n',
  "buildpacks/ex_runtime/1.0.0/bin/build": [
    "#!/bin/sh",
    "set -eu",
    'rt="$CNB_LAYERS_DIR/rt"',
    'if [ -x "$rt/bin/hello-rt" ]; then echo "runtime: kept from the cache"; else',
    '  mkdir -p "$rt/bin" "$rt/env" "$rt/profile.d"',
    "  echo 'export MOOD=cheerful' > \"$rt/profile.d/mood.sh\"",
    '  printf \'#!/bin/sh\\necho "runtime says $GREETING $*"\\n\' > "$rt/bin/hello-rt"',
    '  chmod +x "$rt/bin/hello-rt"',
    '  printf hello > "$rt/env/GREETING.default"',
    "fi",
    'printf "[types]\\nlaunch = true\\nbuild = true\\ncache = true\\n[metadata]\\nversion = \\"1\\"\\n" > "$rt.toml"',
    "",
  ].join("\n"),
  "buildpacks/ex_app/1.0.0/buildpack.toml":
    'api = "0.12"\n[buildpack]\nid = "ex/app"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n',
  "buildpacks/ex_app/1.0.0/bin/detect":
    '#!/bin/sh\n[ -f app.txt ] || exit 100\nprintf "[[requires]]\\nname = \\"runtime\\"\\n" > "$2"\n',
  "buildpacks/ex_app/1.0.0/bin/build": [
    "#!/bin/sh",
    "set -eu",
    "# the runtime's build layer is on PATH here",
    'hello-rt "at build" > "$CNB_LAYERS_DIR/built.txt.tmp"',
    'mkdir -p "$CNB_LAYERS_DIR/web/bin"',
    'mv "$CNB_LAYERS_DIR/built.txt.tmp" "$CNB_LAYERS_DIR/web/built.txt"',
    'printf "[types]\\nlaunch = true\\n" > "$CNB_LAYERS_DIR/web.toml"',
    'cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML',
    "[[processes]]",
    'type = "web"',
    'command = ["hello-rt"]',
    'args = ["from", "web"]',
    "default = true",
    "",
    "[[processes]]",
    'type = "worker"',
    'command = ["cat", "/layers/ex_app/web/built.txt", "/workspace/app.txt"]',
    "TOML",
    "",
  ].join("\n"),
  "order.toml":
    '[[order]]\n[[order.group]]\nid = "ex/runtime"\nversion = "1.0.0"\n[[order.group]]\nid = "ex/app"\nversion = "1.0.0"\n',
  "workspace/app.txt": "the app's own file\n",
};

async function writeFiles() {
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
    if (path.includes("/bin/")) await chmod(join(dir, path), 0o755);
  }
  await mkdir(join(dir, "cache"));
  await mkdir(join(dir, "extensions"));
}

/** Mounts of a build container: the tree, the builder's buildpacks and order, the app, layers and cache. */
function mounts(order: string): string[] {
  return [
    [TREE, "/cnb/lifecycle", "ro"],
    [join(dir, "buildpacks"), "/cnb/buildpacks", "ro"],
    [order, "/cnb/order.toml", "ro"],
    [join(dir, "extensions"), "/cnb/extensions", "ro"],
    [join(dir, "workspace"), "/workspace", "rw"],
    [join(dir, "layers"), "/layers", "rw"],
    [join(dir, "cache"), "/cache", "rw"],
  ].flatMap(([host, path, mode]) => ["-v", `${host}:${path}:${mode}`]);
}

/** One phase in a container of a build image, as `user` (root for the phases that need registry access). */
function phase(buildImage: string, user: string, args: readonly string[], order = join(dir, "order.toml")) {
  return execa(
    "podman",
    [
      ...["run", "--rm", "--network", "host", "--user", user, ...mounts(order)],
      ...["-e", "CNB_PLATFORM_API=0.15", buildImage, ...args],
    ],
    { reject: false },
  );
}

async function freshLayers() {
  await rm(join(dir, "layers"), { recursive: true, force: true });
  await mkdir(join(dir, "layers"));
}

/** The creator in a container of the build image, started as root as platforms start it. */
async function create(order = join(dir, "order.toml")) {
  await freshLayers();
  const runImage = inRegistry(STACKS.busybox.run);
  return phase(
    STACKS.busybox.build,
    "0:0",
    ["/cnb/lifecycle/creator", "-run-image", runImage, "-cache-dir", "/cache", IMAGE],
    order,
  );
}

const runApp = (args: readonly string[]) =>
  execa("podman", ["run", "--rm", "--pull", "always", "--tls-verify=false", ...args], { reject: false });

beforeAll(async () => {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFiles();
});
afterAll(async () => {
  await execa("podman", ["rmi", "-f", IMAGE], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

describe("the creator", () => {
  it("builds and exports an app image whose process types run under Podman", async () => {
    const r = await create();
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("===> "))).toEqual([
      "===> ANALYZING",
      "===> DETECTING",
      "===> RESTORING",
      "===> BUILDING",
      "===> EXPORTING",
    ]);
    expect(lines).toContain("Adding cache layer 'ex/runtime:rt'");
    expect(lines.filter((l) => l.startsWith("Adding layer"))).toEqual([
      "Adding layer 'ex/runtime:rt'",
      "Adding layer 'ex/app:web'",
      "Adding layer 'buildpacksio/lifecycle:launcher'",
      "Adding layer 'buildpacksio/lifecycle:config'",
      "Adding layer 'buildpacksio/lifecycle:process-types'",
    ]);
    expect(lines.filter((l) => /^\*\*\* Images \(sha256:[0-9a-f]{64}\):$/.test(l))).toHaveLength(1);

    const web = await runApp([IMAGE]);
    expect(web).toMatchObject({ exitCode: 0, stdout: "runtime says hello from web" });
    const args = await runApp([IMAGE, "user", "args"]);
    expect(args).toMatchObject({ exitCode: 0, stdout: "runtime says hello user args" });
    const worker = await runApp(["--entrypoint", "/cnb/process/worker", IMAGE]);
    expect(worker).toMatchObject({ exitCode: 0, stdout: "runtime says hello at build\nthe app's own file" });
  });

  it("builds again from the cache, reusing every layer", async () => {
    const r = await create();
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("runtime: kept from the cache");
    expect(lines).toContain("Reusing cache layer 'ex/runtime:rt'");
    expect(lines.filter((l) => l.startsWith("Adding layer"))).toEqual([]);
    expect(lines).toContain("Reusing layer 'ex/runtime:rt'");
    expect(lines).toContain("Reusing 1/1 app layer(s)");
  });

  it("refuses a group with image extensions (exit 22): their Dockerfiles need the separate phases", async () => {
    const ext = join(dir, "extensions", "ex_curl", "1.0.0");
    await mkdir(join(ext, "detect"), { recursive: true });
    await writeFile(
      join(ext, "extension.toml"),
      'api = "0.12"\n[extension]\nid = "ex/curl"\nversion = "1.0.0"\n',
    );
    await writeFile(join(ext, "detect", "plan.toml"), '[[provides]]\nname = "runtime"\n');
    const order = join(dir, "order-with-extensions.toml");
    await writeFile(
      order,
      `${FILES["order.toml"]}[[order-extensions]]\n[[order-extensions.group]]\nid = "ex/curl"\nversion = "1.0.0"\n`,
    );
    const r = await create(order);
    expect(r.exitCode).toBe(22);
    expect(r.stderr).toBe(
      "ERROR: creator: the selected group has image extensions (ex/curl@1.0.0), which the creator cannot apply: run the phases one by one",
    );
  });
});

describe("the phases one container each, as for a builder the platform does not trust (Debian stack)", () => {
  const image = `${REGISTRY}/cnbp-test/${RUN_ID}/phased:1`;
  const build = STACKS.debian.build;
  const ok = async (user: string, args: readonly string[]) => {
    const r = await phase(build, user, args);
    expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(0);
    return r.stdout.split("\n");
  };
  afterAll(async () => {
    await execa("podman", ["rmi", "-f", image], { reject: false });
  });

  it("analyzer and restorer as root, detector and builder as the build user, exporter as root", async () => {
    await freshLayers();
    await rm(join(dir, "cache"), { recursive: true, force: true });
    await mkdir(join(dir, "cache"));
    const runImage = inRegistry(STACKS.debian.run);
    await ok("0:0", ["/cnb/lifecycle/analyzer", "-run-image", runImage, image]);
    expect(await ok("1000:1000", ["/cnb/lifecycle/detector"])).toEqual([
      "ex/runtime 1.0.0",
      "ex/app     1.0.0",
    ]);
    await ok("0:0", ["/cnb/lifecycle/restorer", "-cache-dir", "/cache"]);
    await ok("1000:1000", ["/cnb/lifecycle/builder"]);
    const exported = await ok("0:0", ["/cnb/lifecycle/exporter", "-cache-dir", "/cache", image]);
    expect(exported).toContain("Adding cache layer 'ex/runtime:rt'");

    expect(await runApp([image])).toMatchObject({ exitCode: 0, stdout: "runtime says hello from web" });
    const worker = await runApp(["--entrypoint", "/cnb/process/worker", image]);
    expect(worker).toMatchObject({ exitCode: 0, stdout: "runtime says hello at build\nthe app's own file" });
    // a user-defined shell process: Debian has bash, so profile-free `bash -c` works through the launcher
    const shell = await runApp([
      "--entrypoint",
      "/cnb/lifecycle/launcher",
      image,
      "echo $GREETING from bash",
    ]);
    expect(shell).toMatchObject({ exitCode: 0, stdout: "hello from bash" });
  });
});

describe("detection with extensions in a busybox build container", () => {
  it("skips a failing optional buildpack, runs the extension first and lays out its generated Dockerfiles", async () => {
    await freshLayers();
    // the platform gives the layers volume to the build user (the analyzer would have)
    await chown(join(dir, "layers"), 1000, 1000);
    const ext = join(dir, "extensions", "ex_tools", "1.0.0");
    await mkdir(join(ext, "bin"), { recursive: true });
    await writeFile(
      join(ext, "extension.toml"),
      'api = "0.12"\n[extension]\nid = "ex/tools"\nversion = "1.0.0"\n',
    );
    await writeFile(
      join(ext, "bin", "detect"),
      '#!/bin/sh\nprintf "[[provides]]\\nname = \\"tools\\"\\n" > "$2"\n',
    );
    await writeFile(
      join(ext, "bin", "generate"),
      [
        "#!/bin/sh",
        'mkdir -p "$CNB_OUTPUT_DIR/context"',
        'echo "id: $(id -u)" > "$CNB_OUTPUT_DIR/context/who.txt"',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${base_image}
        'printf "ARG base_image\\nFROM \\${base_image}\\nCOPY who.txt /who.txt\\n" > "$CNB_OUTPUT_DIR/build.Dockerfile"',
        "",
      ].join("\n"),
    );
    for (const f of ["detect", "generate"]) await chmod(join(ext, "bin", f), 0o755);
    const skipped = join(dir, "buildpacks", "ex_never", "1.0.0");
    await mkdir(join(skipped, "bin"), { recursive: true });
    await writeFile(
      join(skipped, "buildpack.toml"),
      'api = "0.12"\n[buildpack]\nid = "ex/never"\nversion = "1.0.0"\n',
    );
    await writeFile(join(skipped, "bin", "detect"), "#!/bin/sh\nexit 100\n");
    await writeFile(join(skipped, "bin", "build"), "#!/bin/sh\nexit 1\n");
    for (const f of ["detect", "build"]) await chmod(join(skipped, "bin", f), 0o755);
    const order = join(dir, "order-tools.toml");
    await writeFile(
      order,
      [
        "[[order]]",
        '[[order.group]]\nid = "ex/never"\nversion = "1.0.0"\noptional = true',
        FILES["order.toml"]?.replace("[[order]]\n", ""),
        '[[order-extensions]]\n[[order-extensions.group]]\nid = "ex/tools"\nversion = "1.0.0"',
        "",
      ].join("\n"),
    );
    // the app requires tools too, so the extension stays in the group
    await writeFile(join(dir, "workspace", "tools.txt"), "");
    const appDetect = join(dir, "buildpacks", "ex_app", "1.0.0", "bin", "detect");
    const original = FILES["buildpacks/ex_app/1.0.0/bin/detect"] as string;
    await writeFile(appDetect, `${original}printf "[[requires]]\\nname = \\"tools\\"\\n" >> "$2"\n`);
    try {
      const r = await phase(STACKS.busybox.build, "1000:1000", ["/cnb/lifecycle/detector"], order);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.split("\n")).toEqual([
        "3 of 4 buildpacks participating",
        "ex/tools   1.0.0",
        "ex/runtime 1.0.0",
        "ex/app     1.0.0",
      ]);
    } finally {
      await writeFile(appDetect, original);
    }
    const layers = join(dir, "layers");
    expect(await readFile(join(layers, "group.toml"), "utf8")).toBe(
      [
        '[[group]]\nid = "ex/runtime"\nversion = "1.0.0"\napi = "0.10"\n',
        '[[group]]\nid = "ex/app"\nversion = "1.0.0"\napi = "0.12"\n',
        '[[group-extensions]]\nid = "ex/tools"\nversion = "1.0.0"\napi = "0.12"\n',
      ].join("\n"),
    );
    // the extension ran as the build user, its context kept beside its Dockerfile
    const generated = join(layers, "generated", "ex_tools");
    expect(await readFile(join(generated, "context", "who.txt"), "utf8")).toBe("id: 1000\n");
    expect(await readFile(join(generated, "build.Dockerfile"), "utf8")).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${base_image}
      "ARG base_image\nFROM ${base_image}\nCOPY who.txt /who.txt\n",
    );
    // tools was the extension's to provide: only runtime is left for the buildpacks
    expect(await readFile(join(layers, "plan.toml"), "utf8")).toBe(
      '[[entries]]\n[[entries.providers]]\nid = "ex/runtime"\nversion = "1.0.0"\n\n[[entries.requires]]\nname = "runtime"\n',
    );
  });
});
