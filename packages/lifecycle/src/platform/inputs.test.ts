import { describe, expect, it } from "vitest";
import { resolveInputs } from "./inputs.js";

const flags = (values: Record<string, string | boolean | string[]> = {}) => ({
  values: new Map(Object.entries(values)),
  positionals: [],
});
const none = () => false;

describe("lifecycle inputs", () => {
  it("uses the spec's defaults, with <layers> defaults under the layers dir", () => {
    const inputs = resolveInputs(flags(), {}, "/", none);
    expect(inputs.appDir).toBe("/workspace");
    expect(inputs.layersDir).toBe("/layers");
    expect(inputs.analyzedPath).toBe("/layers/analyzed.toml");
    expect(inputs.orderPath).toBe("/cnb/order.toml");
    expect(inputs.runPath).toBe("/cnb/run.toml");
    expect(inputs.execEnv).toBe("production");
    expect(inputs.useDaemon).toBe(false);
    expect(inputs.tags).toEqual([]);
    expect(inputs.cacheDir).toBeUndefined();
  });

  it("prefers a flag over its CNB_ variable over the default", () => {
    const env = { CNB_LAYERS_DIR: "/env-layers", CNB_APP_DIR: "/env-app", CNB_USE_DAEMON: "t" };
    const inputs = resolveInputs(flags({ layers: "/flag-layers" }), env, "/", none);
    expect(inputs.layersDir).toBe("/flag-layers");
    expect(inputs.groupPath).toBe("/flag-layers/group.toml");
    expect(inputs.appDir).toBe("/env-app");
    expect(inputs.useDaemon).toBe(true);
  });

  it("takes <layers>/order.toml when it exists", () => {
    const inputs = resolveInputs(flags({ layers: "/l" }), {}, "/", (p) => p === "/l/order.toml");
    expect(inputs.orderPath).toBe("/l/order.toml");
  });

  it("makes directories absolute and splits comma lists", () => {
    const inputs = resolveInputs(
      flags({ layers: "rel" }),
      { CNB_INSECURE_REGISTRIES: "a:5000, b" },
      "/work",
      none,
    );
    expect(inputs.layersDir).toBe("/work/rel");
    expect(inputs.insecureRegistries).toEqual(["a:5000", "b"]);
  });

  it("reads unparsable booleans as false, as Go does", () => {
    expect(resolveInputs(flags(), { CNB_SKIP_LAYERS: "yes" }, "/", none).skipLayers).toBe(false);
  });
});
