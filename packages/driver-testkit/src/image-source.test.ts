import { describe, expect, it } from "vitest";
import { imageSource } from "./image-source.js";

const registryOnly = { registryOnly: true, ociLayoutImport: false };
const layouts = { registryOnly: false, ociLayoutImport: true };
const pullOnly = { registryOnly: false, ociLayoutImport: false };

describe("imageSource", () => {
  it("gives a registry-only driver the registry as its store, and a driver that imports layouts a layout", () => {
    expect(imageSource("k8s", registryOnly, "127.0.0.1:5000")).toEqual({
      kind: "registry",
      registry: "127.0.0.1:5000",
    });
    expect(imageSource("podman", layouts, "127.0.0.1:5000")).toEqual({ kind: "layout" });
    expect(imageSource("podman", layouts, undefined)).toEqual({ kind: "layout" });
    expect(imageSource("podcli", pullOnly, "127.0.0.1:5000")).toEqual({
      kind: "pulled",
      registry: "127.0.0.1:5000",
    });
  });

  it("refuses a registry-only driver without the registry option, naming the driver, the capability and the option", () => {
    expect(() => imageSource("k8s", registryOnly, undefined)).toThrow(
      new Error(
        'driver-testkit: the k8s driver keeps its images in registries only (capabilities.registryOnly): pass runtimeDriverContract the "registry" option, the host:port of a registry the suite pushes its test images to and the driver pulls from, e.g. { registry: "127.0.0.1:5000" }',
      ),
    );
  });

  it("refuses a driver that cannot import OCI layouts without the registry option", () => {
    expect(() => imageSource("podcli", pullOnly, undefined)).toThrow(
      new Error(
        'driver-testkit: the podcli driver cannot import OCI layouts (capabilities.ociLayoutImport is false): pass runtimeDriverContract the "registry" option, the host:port of a registry the suite pushes its test images to and the driver pulls from, e.g. { registry: "127.0.0.1:5000" }',
      ),
    );
  });
});
