/**
 * Where the exporter's new layers are made: each one a normalised tar (gzipped for registries; plain for OCI
 * layouts, where gzip would cost most of the export's time) in a scratch directory, with
 * its diffID and digest known once written (shared/spec/platform.md 4.6). Entries get the fixed CNB mtime
 * (SOURCE_DATE_EPOCH only dates the image, as in the Go lifecycle, so that layer reuse survives a changing
 * epoch), empty user and group names, and the build user as owner of a layer's contents; the parents of a
 * host directory are written with their real owners and modes.
 */
import { join } from "node:path";
import { type LayerPart, type LayerResult, type Owner, writeLayer } from "@cnbp/core";

export interface BuiltLayer {
  /** Names the layer in logs: `<bp-id>:<layer>`, `buildpacksio/lifecycle:launcher`, `slice-1`, ... */
  readonly id: string;
  /** The image history's `created_by`. */
  readonly createdBy: string;
  /** The tar, gzipped or not as the factory was made. */
  readonly file: string;
  readonly result: LayerResult;
}

export class LayerFactory {
  private count = 0;
  /** Directory layers by host path: a layer both exported and cached is tarred once. */
  private readonly dirLayers = new Map<string, Promise<BuiltLayer>>();

  constructor(
    private readonly scratchDir: string,
    /** Owner of the contents of directory and file layers (`-uid`/`-gid`). */
    readonly owner: Owner,
    readonly gzip: boolean = true,
  ) {}

  /** A host directory as the same container path: its parents as they are, its contents owned by `owner`. */
  async dir(id: string, createdBy: string, hostDir: string): Promise<BuiltLayer> {
    let built = this.dirLayers.get(hostDir);
    if (!built) {
      built = this.parts(id, createdBy, [
        { kind: "dir", hostDir, containerPath: hostDir, owner: this.owner, parents: "host" },
      ]);
      this.dirLayers.set(hostDir, built);
    }
    return { ...(await built), id, createdBy };
  }

  /**
   * Listed paths of a host directory (relative, `.` for the directory itself), owned by `owner`, after the
   * directory's parents; no paths gives an empty tar (an empty app slice).
   */
  files(id: string, createdBy: string, hostDir: string, files: readonly string[]): Promise<BuiltLayer> {
    const parts: LayerPart[] =
      files.length === 0
        ? []
        : [{ kind: "files", hostDir, containerPath: hostDir, files, owner: this.owner, parents: "host" }];
    return this.parts(id, createdBy, parts);
  }

  /** Explicit entries (the launcher and process-types layers). */
  async parts(id: string, createdBy: string, parts: readonly LayerPart[]): Promise<BuiltLayer> {
    this.count += 1;
    const name = `${this.count}-${id.replace(/[^A-Za-z0-9._-]/g, "_")}${this.gzip ? ".tar.gz" : ".tar"}`;
    const file = join(this.scratchDir, name);
    const result = await writeLayer(parts, file, { label: id, gzip: this.gzip });
    return { id, createdBy, file, result };
  }
}
