import { describe, expect, it } from "vitest";
import type { BuildDriver, RuntimeDriver } from "./contract.js";
import { DriverError } from "./errors.js";
import { driverShapeProblems } from "./shape.js";

const fail = async (): Promise<never> => {
  throw new DriverError("CNBP_UNSUPPORTED", "typed", "op", "not in this test");
};

/** A driver written against the types: the shape check must accept whatever the types require. */
const typed: RuntimeDriver & BuildDriver = {
  apiVersion: 1,
  name: "typed",
  capabilities: {
    rootless: false,
    sharesImageStoreWith: [],
    ociLayoutImport: true,
    ociLayoutExport: true,
    bindMounts: true,
    networks: ["default", "none", "host"],
    registryOnly: false,
  },
  info: fail,
  images: {
    inspect: async () => undefined,
    pull: fail,
    importOciLayout: fail,
    exportOciLayout: fail,
    tag: fail,
    remove: async () => {},
  },
  workspace: fail,
  volumes: { list: async () => [], remove: async () => {} },
  build: fail,
  [Symbol.asyncDispose]: async () => {},
};

describe("driverShapeProblems", () => {
  it("accepts a driver that implements the contract types", () => {
    expect(driverShapeProblems(typed, "typed", ["runtime", "build"])).toEqual([]);
  });

  it("names each missing member of the declared kinds", () => {
    const { build: _, images, ...runtimeOnly } = typed;
    expect(driverShapeProblems(runtimeOnly, "typed", ["build"])).toEqual([
      "images is missing",
      "build is not a function",
    ]);
    expect(
      driverShapeProblems(
        { ...runtimeOnly, images: { ...images, pull: "no" }, capabilities: { rootless: "yes" } },
        "typed",
        ["runtime"],
      ),
    ).toEqual([
      "capabilities.rootless is not a boolean",
      "capabilities.ociLayoutImport is not a boolean",
      "capabilities.ociLayoutExport is not a boolean",
      "capabilities.bindMounts is not a boolean",
      "capabilities.registryOnly is not a boolean",
      "capabilities.sharesImageStoreWith is not an array",
      "capabilities.networks is not an array",
      "images.pull is not a function",
    ]);
    expect(driverShapeProblems(null, "typed", ["runtime"])).toEqual(["it is null, not an object"]);
  });

  it("says whose error a DriverError is", () => {
    const err = new DriverError("CNBP_UNKNOWN_VOLUME", "podman", "workspace.put", 'no volume "cache"');
    expect([err.code, err.message, err.driver, err.operation]).toEqual([
      "CNBP_UNKNOWN_VOLUME",
      'driver podman: workspace.put: no volume "cache"',
      "podman",
      "workspace.put",
    ]);
  });
});
