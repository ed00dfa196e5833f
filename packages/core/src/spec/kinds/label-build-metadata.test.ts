import { describe, expect, it } from "vitest";
import { formatProblem } from "../../errors.js";
import { parseSpec, serializeSpec } from "../file-kind.js";
import { buildMetadataLabel, processCommand } from "./label-build-metadata.js";

const LABEL = "io.buildpacks.build.metadata";
const messages = (value: unknown) =>
  parseSpec(buildMetadataLabel, JSON.stringify(value), LABEL).problems.map((p) => formatProblem(p));

const BUILD = {
  buildpacks: [{ id: "example/node", version: "1.0.0", homepage: "https://example.com/node" }],
  extensions: [{ id: "example/apt", version: "0.1.0" }],
  processes: [
    {
      type: "web",
      command: ["node", "server.js"],
      args: ["--port", "8080"],
      direct: true,
      buildpackID: "example/node",
    },
    {
      type: "worker",
      command: ["node"],
      args: ["worker.js"],
      direct: true,
      buildpackID: "example/node",
      "working-dir": "/workspace/jobs",
    },
  ],
  launcher: {
    version: "0.21.0",
    source: { git: { repository: "github.com/buildpacks/lifecycle", commit: "4bd4b13" } },
  },
  "buildpack-default-process-type": "web",
};

describe(LABEL, () => {
  it("accepts the label an exporter writes (Platform API >= 0.10)", () => {
    const parsed = parseSpec(buildMetadataLabel, JSON.stringify(BUILD), LABEL);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value?.processes?.[1]?.["working-dir"]).toBe("/workspace/jobs");
    expect(parsed.value?.launcher?.source?.git?.commit).toBe("4bd4b13");
    expect(parsed.value?.["buildpack-default-process-type"]).toBe("web");
  });

  it("accepts a string command (Platform API < 0.10) and Go's nulls", () => {
    const old = {
      bom: null,
      buildpacks: [{ id: "example/node", version: "1.0.0", api: "0.8" }],
      processes: [{ type: "web", command: "node", args: null, direct: false, buildpackID: "example/node" }],
      launcher: { version: "0.17.0", source: { git: { repository: "", commit: "" } } },
    };
    const parsed = parseSpec(buildMetadataLabel, JSON.stringify(old), LABEL);
    expect(parsed.problems).toEqual([]);
    const web = parsed.value?.processes?.[0];
    expect(web && processCommand(web)).toEqual(["node"]);
  });

  it("round-trips through JSON", () => {
    const first = parseSpec(buildMetadataLabel, JSON.stringify(BUILD), LABEL).value;
    const again = parseSpec(buildMetadataLabel, serializeSpec(buildMetadataLabel, first), LABEL).value;
    expect(again).toEqual(BUILD);
  });

  it("names invalid values", () => {
    expect(
      messages({
        buildpacks: [{ version: "1.0.0" }],
        processes: [
          { command: 5, direct: "true" },
          { type: "web", command: ["node", 1] },
        ],
      }),
    ).toEqual([
      `${LABEL}: buildpacks[0].id is required`,
      `${LABEL}: processes[0].type is required`,
      `${LABEL}: processes[0].command must be an array of strings (or a string before Platform API 0.10), found 5`,
      `${LABEL}: processes[0].direct must be a boolean (true or false), found a string "true"`,
      `${LABEL}: processes[1].command must be an array of strings (or a string before Platform API 0.10), found an array`,
    ]);
  });

  it("warns about a process's TOML key for its buildpack", () => {
    expect(
      messages({ processes: [{ type: "web", command: ["node"], "buildpack-id": "example/node" }] }),
    ).toEqual([
      `${LABEL}: warning: processes[0].buildpack-id is the TOML spelling: the label calls it "buildpackID" (ignored)`,
    ]);
  });
});
