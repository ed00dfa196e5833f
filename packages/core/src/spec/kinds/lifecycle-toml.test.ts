import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { lifecycleApis, lifecycleToml } from "./lifecycle-toml.js";

const messages = (text: string) =>
  parseSpec(lifecycleToml, text, "lifecycle.toml").problems.map(formatProblem);

const CURRENT = `
[apis]
[apis.buildpack]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"]
[apis.platform]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"]

[api]
  platform = "0.7"
  buildpack = "0.7"

[lifecycle]
  version = "0.21.0"
  sbom-formats = ["cdx", "spdx", "syft"]
`;

/** An old lifecycle (RFC 0011 descriptor only). */
const LEGACY = `
[api]
  platform = "0.3"
  buildpack = "0.2"
[lifecycle]
  version = "0.9.3"
`;

describe("lifecycle.toml", () => {
  it("reads the version and the supported APIs", () => {
    const parsed = parseSpec(lifecycleToml, CURRENT, "lifecycle.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.lifecycle).toEqual({ version: "0.21.0", "sbom-formats": ["cdx", "spdx", "syft"] });
    expect(parsed.value && lifecycleApis(parsed.value, "platform")).toEqual({
      deprecated: [],
      supported: ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"],
    });
  });

  it("falls back to the legacy [api] minimums", () => {
    const parsed = parseSpec(lifecycleToml, LEGACY, "lifecycle.toml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value && lifecycleApis(parsed.value, "buildpack")).toEqual({
      deprecated: [],
      supported: ["0.2"],
    });
  });

  it("round-trips through TOML", () => {
    for (const text of [CURRENT, LEGACY]) {
      const first = parseSpec(lifecycleToml, text, "lifecycle.toml").value;
      const again = parseSpec(lifecycleToml, serializeSpec(lifecycleToml, first), "lifecycle.toml").value;
      expect(again).toEqual(first);
    }
  });

  it("names each wrong value", () => {
    const text = `[apis.platform]\nsupported = ["0.12", "latest"]\n[api]\nbuildpack = 0.7\n[lifecycle]\nversion = "next"\n`;
    expect(messages(text)).toEqual([
      `lifecycle.toml: apis.platform.supported[1] "latest" is not an API version (<major>.<minor>, e.g. "0.10")`,
      `lifecycle.toml: api.buildpack must be a string, found a float 0.7 (quote it: "0.7")`,
      `lifecycle.toml: lifecycle.version "next" is not a valid version (semver, e.g. "0.21.0")`,
    ]);
    expect(messages(`[api]\nplatform = "0.7"\n`)).toEqual(["lifecycle.toml: lifecycle is required"]);
  });

  it("requires the APIs a platform negotiates against", () => {
    expect(messages(`[apis.platform]\nsupported = []\n[lifecycle]\nversion = "0.21.0"\n`)).toEqual([
      "lifecycle.toml: apis.platform.supported is required (or the legacy api.platform)",
      "lifecycle.toml: apis.buildpack.supported is required (or the legacy api.buildpack)",
    ]);
  });

  it("warns about a deprecated API that is not supported", () => {
    const text = `
[apis.buildpack]
  deprecated = ["0.6"]
  supported = ["0.7", "0.12"]
[apis.platform]
  deprecated = ["1"]
  supported = ["1.2"]
[lifecycle]
  version = "1.0.0"
`;
    const parsed = parseSpec(lifecycleToml, text, "lifecycle.toml");
    expect(parsed.ok).toBe(true);
    expect(parsed.problems.map(formatProblem)).toEqual([
      `lifecycle.toml: warning: apis.buildpack.deprecated[0] "0.6" is not in apis.buildpack.supported (deprecated APIs are still supported ones)`,
    ]);
  });
});
