import { describe, expect, it } from "vitest";
import { PATHS, type PhasePlanInput, phasePlan } from "./phases.js";

const BASE: PhasePlanInput = {
  builderImage: "sha256:builder",
  platformApi: "0.15",
  uid: 1000,
  gid: 1000,
  image: "app",
  tags: [],
  runImage: "run",
  output: { kind: "registry" },
  creator: false,
  clearCache: false,
};

const EXTRA = {
  buildpackDirs: [
    { id: "ex/extra", version: "1.0.0", source: "/host/bps/ex_extra/1.0.0" },
    { id: "ex/other", version: "2.0.0", source: "/host/bps/ex_other/2.0.0" },
  ],
  orderPath: PATHS.order,
};

const MOUNTS = [
  {
    type: "bind",
    source: "/host/bps/ex_extra/1.0.0",
    target: "/cnb/buildpacks/ex_extra/1.0.0",
    readOnly: true,
  },
  {
    type: "bind",
    source: "/host/bps/ex_other/2.0.0",
    target: "/cnb/buildpacks/ex_other/2.0.0",
    readOnly: true,
  },
];

const bindsOf = (step: { mounts?: readonly { type: string }[] }) =>
  (step.mounts ?? []).filter((m) => m.type === "bind");

describe("the phase plan with extra buildpacks", () => {
  it("mounts each buildpack over its /cnb/buildpacks dir in the detector and builder only", () => {
    const plan = phasePlan({ ...BASE, ...EXTRA });
    expect(plan.map((p) => [p.phase, bindsOf(p.step)])).toEqual([
      ["analyzer", []],
      ["detector", MOUNTS],
      ["restorer", []],
      ["builder", MOUNTS],
      ["exporter", []],
    ]);
  });

  it("gives the detector, and only it, the order with -order", () => {
    const plan = phasePlan({ ...BASE, ...EXTRA });
    const withOrder = plan.filter((p) => p.step.cmd.includes("-order")).map((p) => p.phase);
    expect(withOrder).toEqual(["detector"]);
    expect(plan[1]?.step.cmd).toEqual([
      "/cnb/lifecycle/detector",
      ...["-app", "/workspace", "-layers", "/layers", "-platform", "/platform"],
      ...["-order", "/layers/order.toml"],
    ]);
  });

  it("gives the creator the mounts and the order", () => {
    const [creator] = phasePlan({ ...BASE, ...EXTRA, creator: true });
    expect(bindsOf(creator?.step ?? {})).toEqual(MOUNTS);
    const cmd = creator?.step.cmd ?? [];
    expect(cmd.slice(cmd.indexOf("-order"), cmd.indexOf("-order") + 2)).toEqual(["-order", PATHS.order]);
  });

  it("keeps the user's --volume mounts after the buildpacks'", () => {
    const volume = { type: "bind" as const, source: "/srv", target: "/srv" };
    const [, detector] = phasePlan({ ...BASE, ...EXTRA, userMounts: [volume] });
    expect(bindsOf(detector?.step ?? {})).toEqual([...MOUNTS, volume]);
  });

  it("adds nothing without extra buildpacks", () => {
    const plan = phasePlan(BASE);
    expect(plan.flatMap((p) => bindsOf(p.step))).toEqual([]);
    expect(plan.some((p) => p.step.cmd.includes("-order"))).toBe(false);
  });
});

describe("the phase plan with extensions given to the build", () => {
  const EXTENSIONS = [
    { id: "ex/files", version: "1.0.0", source: "/host/exts/ex_files/1.0.0" },
    { id: "ex/apt", version: "0.1.0", source: "/host/exts/ex_apt/0.1.0" },
  ];
  const EXTENSION_MOUNTS = [
    {
      type: "bind",
      source: "/host/exts/ex_files/1.0.0",
      target: "/cnb/extensions/ex_files/1.0.0",
      readOnly: true,
    },
    {
      type: "bind",
      source: "/host/exts/ex_apt/0.1.0",
      target: "/cnb/extensions/ex_apt/0.1.0",
      readOnly: true,
    },
  ];

  it("mounts each extension over its /cnb/extensions dir in the detector only, after the buildpacks", () => {
    const volume = { type: "bind" as const, source: "/srv", target: "/srv" };
    const plan = phasePlan({ ...BASE, ...EXTRA, extensionDirs: EXTENSIONS, userMounts: [volume] });
    expect(plan.map((p) => [p.phase, bindsOf(p.step)])).toEqual([
      ["analyzer", []],
      ["detector", [...MOUNTS, ...EXTENSION_MOUNTS, volume]],
      ["restorer", []],
      ["builder", [...MOUNTS, volume]],
      ["exporter", []],
    ]);
  });

  it("mounts them without extra buildpacks, the detector reading the order from -order", () => {
    const plan = phasePlan({ ...BASE, extensionDirs: EXTENSIONS, orderPath: PATHS.order });
    expect(plan.map((p) => [p.phase, bindsOf(p.step), p.step.cmd.includes("-order")])).toEqual([
      ["analyzer", [], false],
      ["detector", EXTENSION_MOUNTS, true],
      ["restorer", [], false],
      ["builder", [], false],
      ["exporter", [], false],
    ]);
  });
});

describe("the phase plan with a lifecycle image", () => {
  it("runs the phases that get registry credentials in it, and the buildpacks' phases in the builder", () => {
    const plan = phasePlan({ ...BASE, lifecycleImage: "sha256:lifecycle", registryAuth: '{"r":"Basic x"}' });
    expect(plan.map((p) => [p.phase, p.step.image, "CNB_REGISTRY_AUTH" in (p.step.env ?? {})])).toEqual([
      ["analyzer", "sha256:lifecycle", true],
      ["detector", "sha256:builder", false],
      ["restorer", "sha256:lifecycle", true],
      ["builder", "sha256:builder", false],
      ["exporter", "sha256:lifecycle", true],
    ]);
  });
});

describe("the phase plan with another app directory (--workspace)", () => {
  it("mounts the app volume there and says so to every phase that takes -app", () => {
    const plan = phasePlan({ ...BASE, appDir: "/srv/app" });
    expect(
      plan.map((p) => [
        p.phase,
        p.step.cmd.includes("-app") ? p.step.cmd[p.step.cmd.indexOf("-app") + 1] : null,
        p.step.mounts?.find((m) => m.type === "volume" && m.volume === "app")?.target ?? null,
      ]),
    ).toEqual([
      ["analyzer", null, null],
      ["detector", "/srv/app", "/srv/app"],
      ["restorer", null, null],
      ["builder", "/srv/app", "/srv/app"],
      ["exporter", "/srv/app", "/srv/app"],
    ]);
  });
});
