/**
 * The layers the lifecycle itself adds (shared/spec/platform.md 4.6 steps 5 and 7): the launcher at
 * `/cnb/lifecycle/launcher` (with the runtime it runs on) and a `/cnb/process/<type>` symlink to it per
 * process, all root-owned; and the
 * lifecycle's and launcher's SBOM files copied into `<layers>/sbom/` before export (Platform >= 0.11).
 */
import { statSync } from "node:fs";
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { LayerPart } from "@cnbp/core";
import type { Log } from "../log.js";
import { LAUNCHER_PATH, LIFECYCLE_DIR, PROCESS_DIR } from "./image-config.js";

/**
 * `/cnb`, `/cnb/lifecycle` and the launcher, root-owned, mode 0755; and, when a `runtime/` dir lies beside the
 * launcher file (cnbp's launcher is a script for the Node in `/cnb/lifecycle/runtime`), that dir, root-owned.
 * A launcher that is a static binary (Go's) has none.
 */
export function launcherParts(launcherFile: string): LayerPart[] {
  const runtime = join(dirname(launcherFile), "runtime");
  return [
    { kind: "directory", path: "/cnb", uid: 0, gid: 0, mode: 0o755 },
    { kind: "directory", path: LIFECYCLE_DIR, uid: 0, gid: 0, mode: 0o755 },
    { kind: "file", path: LAUNCHER_PATH, source: launcherFile, uid: 0, gid: 0, mode: 0o755 },
    ...(statSync(runtime, { throwIfNoEntry: false })?.isDirectory()
      ? [
          {
            kind: "dir",
            hostDir: runtime,
            containerPath: `${LIFECYCLE_DIR}/runtime`,
            owner: { uid: 0, gid: 0 },
            parents: "none",
          } satisfies LayerPart,
        ]
      : []),
  ];
}

/** `/cnb`, `/cnb/process` and one symlink per process type to the launcher, in the order given. */
export function processTypesParts(types: readonly string[]): LayerPart[] {
  return [
    { kind: "directory", path: "/cnb", uid: 0, gid: 0, mode: 0o755 },
    { kind: "directory", path: PROCESS_DIR, uid: 0, gid: 0, mode: 0o755 },
    ...types.map(
      (type): LayerPart => ({ kind: "symlink", path: `${PROCESS_DIR}/${type}`, target: LAUNCHER_PATH }),
    ),
  ];
}

const SBOM_EXTENSIONS = ["sbom.cdx.json", "sbom.spdx.json", "sbom.syft.json"] as const;
export const DEFAULT_SBOM_DIR = "/cnb/lifecycle";

/**
 * Copies `<sbomDir>/lifecycle.<ext>` to `<layers>/sbom/build/buildpacksio_lifecycle/<ext>` and the launcher's
 * SBOM to `<layers>/sbom/launch/buildpacksio_lifecycle/launcher/`: `launcher.<ext>` from the default dir, or
 * every `*.<ext>` file of a `-launcher-sbom` dir. Missing files are skipped (cnbp's lifecycle ships none).
 */
export async function copyLifecycleSboms(layersDir: string, launcherSbomDir: string, log: Log) {
  const buildDir = join(layersDir, "sbom", "build", "buildpacksio_lifecycle");
  const launchDir = join(layersDir, "sbom", "launch", "buildpacksio_lifecycle", "launcher");
  await copyComponent("lifecycle", DEFAULT_SBOM_DIR, buildDir, log);
  if (launcherSbomDir === DEFAULT_SBOM_DIR) {
    await copyComponent("launcher", DEFAULT_SBOM_DIR, launchDir, log);
    return;
  }
  const files = (await readdir(launcherSbomDir)).filter((f) =>
    SBOM_EXTENSIONS.some((e) => f.endsWith(`.${e}`)),
  );
  if (files.length === 0) return;
  await mkdir(launchDir, { recursive: true });
  for (const f of files.sort()) await copyFile(join(launcherSbomDir, f), join(launchDir, f));
}

async function copyComponent(component: string, from: string, to: string, log: Log) {
  for (const ext of SBOM_EXTENSIONS) {
    const source = join(from, `${component}.${ext}`);
    const found = await stat(source).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!found) {
      log.debug(`No SBOM ${component}.${ext} in ${from}`);
      continue;
    }
    await mkdir(to, { recursive: true });
    await copyFile(source, join(to, ext));
  }
}
