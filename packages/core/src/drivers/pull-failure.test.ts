import { describe, expect, it } from "vitest";
import { pullFailureCode } from "./pull-failure.js";

describe("pullFailureCode", () => {
  it("reads the engines' words for refused credentials, an absent image and anything else", () => {
    // Podman and Buildah (containers/image), then Docker Engine
    expect(
      pullFailureCode(
        "Error: initializing source docker://127.0.0.1:5000/app:1: reading manifest 1 in 127.0.0.1:5000/app: manifest unknown",
      ),
    ).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(
      pullFailureCode(
        "Error: initializing source docker://127.0.0.1:5001/app:1: reading manifest 1 in 127.0.0.1:5001/app: authentication required",
      ),
    ).toBe("CNBP_REGISTRY_AUTH");
    expect(
      pullFailureCode("pull access denied for app, repository does not exist or may require 'docker login'"),
    ).toBe("CNBP_REGISTRY_AUTH");
    expect(
      pullFailureCode('Get "https://nowhere.invalid/v2/": dial tcp: lookup nowhere.invalid: no such host'),
    ).toBe("CNBP_IMAGE_NOT_FOUND");
    expect(pullFailureCode("Error: writing blob: storage: no space left on device")).toBe(
      "CNBP_DRIVER_FAILED",
    );
  });
});
