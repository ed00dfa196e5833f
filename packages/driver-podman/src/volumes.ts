/** The engine's volumes, found by label and removed by name: `podman volume ls` and `podman volume rm`. */
import type { VolumeFilter, VolumeInfo, VolumeStore } from "@cnbp/core/drivers";
import { failed, isNotKnown, type PodmanCli, podman, podmanOk } from "./podman.js";

interface VolumeJson {
  Name: string;
  Labels?: Record<string, string> | null;
  CreatedAt?: string;
}

export class PodmanVolumes implements VolumeStore {
  constructor(private readonly cli: PodmanCli) {}

  async list(filter: VolumeFilter): Promise<VolumeInfo[]> {
    const wanted = Object.entries(filter.labels);
    // podman ORs repeated label filters: ask for the first, check them all here
    const first = wanted[0] ? ["--filter", `label=${wanted[0][0]}=${wanted[0][1]}`] : [];
    const out = await podmanOk(this.cli, "volumes.list", ["volume", "ls", "--format", "json", ...first]);
    const volumes = (JSON.parse(out || "[]") as VolumeJson[]).filter((v) =>
      wanted.every(([k, value]) => v.Labels?.[k] === value),
    );
    if (volumes.length === 0) return [];
    // dangling: no container, running or not, refers to the volume (podman's MountCount counts only mounts)
    const unused = new Set(
      (
        await podmanOk(this.cli, "volumes.list", [
          "volume",
          "ls",
          "--filter",
          "dangling=true",
          "--format",
          "{{.Name}}",
        ])
      ).split("\n"),
    );
    return volumes.map((v) => ({
      name: v.Name,
      labels: v.Labels ?? {},
      ...(v.CreatedAt ? { createdAt: new Date(v.CreatedAt).toISOString() } : {}),
      inUse: !unused.has(v.Name),
    }));
  }

  async remove(name: string): Promise<void> {
    const r = await podman(this.cli, "volumes.remove", ["volume", "rm", name]);
    if (r.exitCode === 0 || isNotKnown(r.stderr)) return;
    if (/is being used/.test(r.stderr)) throw failed("volumes.remove", r, "CNBP_VOLUME_IN_USE");
    throw failed("volumes.remove", r);
  }
}
