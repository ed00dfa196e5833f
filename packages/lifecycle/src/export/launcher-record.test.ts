/** The launcher layer's record on real files: its diffID is the layer's, and it counts only while the files match. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeLayer } from "@cnbp/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LAUNCHER_RECORD, recordedLauncherDiffId, recordLauncherLayer } from "./launcher-record.js";
import { launcherParts } from "./lifecycle-layers.js";

let dir: string;
let launcher: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnbp-launcher-record-"));
  launcher = join(dir, "launcher");
  await mkdir(join(dir, "runtime", "lib"), { recursive: true });
  await writeFile(launcher, "#!/cnb/lifecycle/runtime/node\nlaunch()\n", { mode: 0o755 });
  await writeFile(join(dir, "runtime", "node"), "node\n", { mode: 0o755 });
  await writeFile(join(dir, "runtime", "lib", "libc.so.6"), "libc\n", { mode: 0o755 });
  await writeFile(join(dir, LAUNCHER_RECORD), JSON.stringify(await recordLauncherLayer(launcher)));
});

afterEach(() => rm(dir, { recursive: true, force: true }));

describe("launcher layer record", () => {
  it("names the diffID of the layer the exporter makes of the launcher and its runtime", async () => {
    const made = await writeLayer(launcherParts(launcher), join(dir, "layer.tar"), { gzip: false });
    expect(await recordedLauncherDiffId(launcher)).toBe(made.diffId);
  });

  it.each([
    ["the launcher's content", () => writeFile(launcher, "#!/cnb/lifecycle/runtime/node\nlaunch(2)\n")],
    ["a runtime file's size", () => writeFile(join(dir, "runtime", "node"), "node 2\n")],
    ["a runtime file's mode", () => chmod(join(dir, "runtime", "lib", "libc.so.6"), 0o644)],
    ["a file more in the runtime", () => writeFile(join(dir, "runtime", "lib", "libm.so.6"), "libm\n")],
    ["no runtime", () => rm(join(dir, "runtime"), { recursive: true })],
    ["no record", () => rm(join(dir, LAUNCHER_RECORD))],
    ["a record that is no JSON", () => writeFile(join(dir, LAUNCHER_RECORD), "{")],
    [
      "a record without a sha256 diffID",
      () => writeFile(join(dir, LAUNCHER_RECORD), '{"diffId":"x","files":[]}'),
    ],
  ])("counts for nothing after a change of %s", async (_what, change) => {
    await change();
    expect(await recordedLauncherDiffId(launcher)).toBeUndefined();
  });
});
