/** The rebase rules of platform.md section 9, one by one, on plain image configs. */

import { describe, expect, it } from "vitest";
import type { ImageConfig } from "../image/oci.js";
import type { LifecycleMetadata } from "../spec/kinds/label-lifecycle-metadata.js";
import { checkRebase, type RebaseCheck, RebaseRefused, targetOf, targetSatisfiedForRebase } from "./rules.js";

const RUN = "registry.example/cnbp/run:jammy";
const sha = (c: string) => `sha256:${c.repeat(64)}`;

function config(
  opts: {
    os?: string;
    arch?: string;
    variant?: string;
    labels?: Record<string, string>;
    env?: string[];
  } = {},
): ImageConfig {
  return {
    os: opts.os ?? "linux",
    architecture: opts.arch ?? "amd64",
    ...(opts.variant ? { variant: opts.variant } : {}),
    config: { Env: opts.env ?? ["CNB_PLATFORM_API=0.15"], Labels: opts.labels ?? {} },
    rootfs: { type: "layers", diff_ids: [sha("1")] },
  };
}

const distro = (name: string, version: string) => ({
  "io.buildpacks.base.distro.name": name,
  "io.buildpacks.base.distro.version": version,
});

const metadata: LifecycleMetadata = {
  runImage: {
    topLayer: sha("1"),
    reference: "r@sha256:x",
    image: RUN,
    mirrors: ["mirror.example/run:jammy"],
  },
};

const check = (over: Partial<RebaseCheck> = {}) =>
  checkRebase({
    app: config({ labels: distro("ubuntu", "22.04") }),
    newBase: config({ labels: distro("ubuntu", "22.04") }),
    newBaseName: RUN,
    metadata,
    force: false,
    ...over,
  });

const refusal = (over: Partial<RebaseCheck>) => {
  try {
    check(over);
  } catch (err) {
    expect(err).toBeInstanceOf(RebaseRefused);
    return (err as Error).message;
  }
  throw new Error("not refused");
};

describe("targetSatisfiedForRebase", () => {
  const t = (opts: Parameters<typeof config>[0]) => targetOf(config(opts));
  it("needs equal os and arch", () => {
    expect(targetSatisfiedForRebase(t({}), t({}))).toBe(true);
    expect(targetSatisfiedForRebase(t({ arch: "arm64" }), t({}))).toBe(false);
    expect(targetSatisfiedForRebase(t({ os: "windows" }), t({}))).toBe(false);
  });
  it("treats a missing variant as a wildcard", () => {
    expect(targetSatisfiedForRebase(t({ variant: "v8" }), t({}))).toBe(true);
    expect(targetSatisfiedForRebase(t({}), t({ variant: "v8" }))).toBe(true);
    expect(targetSatisfiedForRebase(t({ variant: "v8" }), t({ variant: "v7" }))).toBe(false);
  });
  it("needs the app to have the distro the new base states", () => {
    expect(targetSatisfiedForRebase(t({}), t({ labels: distro("ubuntu", "22.04") }))).toBe(true);
    expect(targetSatisfiedForRebase(t({ labels: distro("ubuntu", "22.04") }), t({}))).toBe(false);
    expect(
      targetSatisfiedForRebase(
        t({ labels: distro("ubuntu", "24.04") }),
        t({ labels: distro("ubuntu", "22.04") }),
      ),
    ).toBe(false);
    expect(
      targetSatisfiedForRebase(
        t({ labels: { "io.buildpacks.base.distro.name": "ubuntu" } }),
        t({ labels: distro("ubuntu", "22.04") }),
      ),
    ).toBe(true);
  });
});

describe("checkRebase", () => {
  it("allows a compatible new base named in the label", () => {
    expect(check()).toEqual({ warnings: [], legacy: false, renameRunImage: false, targetForced: false });
  });

  it("refuses an app image labelled rebasable=false unless forced", () => {
    const app = config({ labels: { ...distro("ubuntu", "22.04"), "io.buildpacks.rebasable": "false" } });
    expect(refusal({ app })).toBe("app image is not marked as rebasable; please provide -force to override");
    expect(check({ app, force: true }).warnings).toEqual(["app image is not marked as rebasable"]);
    expect(refusal({ app, forceFlag: "--force" })).toBe(
      "app image is not marked as rebasable; please provide --force to override",
    );
    // only the literal "false" refuses
    const unset = config({ labels: distro("ubuntu", "22.04") });
    expect(check({ app: unset }).warnings).toEqual([]);
  });

  it("refuses another os/arch or distro unless forced, printing both targets as Go does", () => {
    const newBase = config({ arch: "arm64", variant: "v8", labels: distro("ubuntu", "22.04") });
    const problem =
      'unable to satisfy target os/arch constraints; new run image: {"id":"","os":"linux","arch":"arm64","arch-variant":"v8","distribution":{"name":"ubuntu","version":"22.04"}}, old run image: {"id":"","os":"linux","arch":"amd64","arch-variant":"","distribution":{"name":"ubuntu","version":"22.04"}}';
    expect(refusal({ newBase })).toBe(`${problem}; please provide -force to override`);
    expect(check({ newBase, force: true })).toMatchObject({ warnings: [problem], targetForced: true });
    const debian = config({ labels: { ...distro("debian", "12"), "io.buildpacks.base.id": "d" } });
    expect(refusal({ newBase: debian })).toContain(
      'new run image: {"id":"d","os":"linux","arch":"amd64","arch-variant":"","distribution":{"name":"debian","version":"12"}}',
    );
  });

  it("refuses a run image the label does not name unless forced, then renames it", () => {
    expect(refusal({ newBaseName: "registry.example/other/run:jammy" })).toBe(
      `new base image 'registry.example/other/run:jammy' not found in existing run image metadata: {"topLayer":"${sha("1")}","reference":"r@sha256:x","image":"${RUN}","mirrors":["mirror.example/run:jammy"]}; please provide -force to override`,
    );
    expect(check({ newBaseName: "registry.example/other/run:jammy", force: true })).toMatchObject({
      renameRunImage: true,
    });
    expect(refusal({ newBaseName: "x.example/run", metadata: {} })).toBe(
      "new base image 'x.example/run' not found in existing run image metadata: not found; please provide -force to override",
    );
  });

  it("compares run image names by repository, as the Go lifecycle does", () => {
    expect(check({ newBaseName: "registry.example/cnbp/run:noble" }).renameRunImage).toBe(false);
    expect(check({ newBaseName: `registry.example/cnbp/run@${sha("2")}` }).renameRunImage).toBe(false);
    expect(check({ newBaseName: "mirror.example/run" }).renameRunImage).toBe(false);
    const legacyLabel = { stack: { runImage: { image: "docker.io/library/ubuntu:jammy" } } };
    expect(
      check({ metadata: legacyLabel, newBaseName: "index.docker.io/library/ubuntu" }).renameRunImage,
    ).toBe(false);
  });

  it("applies the stack rules to app images older than Platform 0.12, which -force does not bypass", () => {
    const stack = (id: string, mixins?: string[]) =>
      config({
        env: ["CNB_PLATFORM_API=0.11"],
        labels: {
          "io.buildpacks.stack.id": id,
          ...(mixins ? { "io.buildpacks.stack.mixins": JSON.stringify(mixins) } : {}),
        },
      });
    // target rules are not applied to legacy images: another arch passes
    expect(
      check({
        app: stack("s", ["run:curl", "git"]),
        newBase: { ...stack("s", ["curl", "build:git"]), architecture: "arm64" },
      }),
    ).toMatchObject({ legacy: true, warnings: [] });
    for (const force of [false, true]) {
      expect(refusal({ app: stack("a"), newBase: stack("b"), force })).toBe(
        "incompatible stack: 'b' is not compatible with 'a'",
      );
      expect(refusal({ app: stack("s", ["zlib", "curl", "git"]), newBase: stack("s", ["git"]), force })).toBe(
        "missing required mixin(s): curl, zlib",
      );
    }
    const noEnv = { ...config({ labels: {} }), config: { Labels: {} } };
    expect(refusal({ app: noEnv, newBase: stack("s") })).toBe("stack not defined on app image");
    expect(refusal({ app: stack("s"), newBase: config({ labels: {} }) })).toBe(
      "stack not defined on new base image",
    );
  });
});
