/**
 * Where the image store suite gets its test image, decided from the driver's capabilities when the suite is
 * declared: imported from an OCI layout, or pushed to the `registry` option, which a driver that cannot import
 * layouts, or whose images live in registries only, cannot run without.
 */
import type { DriverCapabilities } from "@cnbp/core";

export type ImageSource =
  | { readonly kind: "layout" }
  /** Pushed to `registry`, then pulled into the driver's own store and tagged there. */
  | { readonly kind: "pulled"; readonly registry: string }
  /** Pushed to `registry`, whose references are the driver's store (capabilities.registryOnly). */
  | { readonly kind: "registry"; readonly registry: string };

/** Throws, naming the driver and the option, when the driver's capabilities need a registry it was not given. */
export function imageSource(
  name: string,
  caps: Pick<DriverCapabilities, "registryOnly" | "ociLayoutImport">,
  registry: string | undefined,
): ImageSource {
  if (caps.registryOnly) {
    if (registry) return { kind: "registry", registry };
    throw new Error(
      `driver-testkit: the ${name} driver keeps its images in registries only (capabilities.registryOnly): pass runtimeDriverContract the "registry" option, the host:port of a registry the suite pushes its test images to and the driver pulls from, e.g. { registry: "127.0.0.1:5000" }`,
    );
  }
  if (caps.ociLayoutImport) return { kind: "layout" };
  if (registry) return { kind: "pulled", registry };
  throw new Error(
    `driver-testkit: the ${name} driver cannot import OCI layouts (capabilities.ociLayoutImport is false): pass runtimeDriverContract the "registry" option, the host:port of a registry the suite pushes its test images to and the driver pulls from, e.g. { registry: "127.0.0.1:5000" }`,
  );
}
