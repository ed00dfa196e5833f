/** The engine's volumes, found by label and removed by name, through the Engine API. */
import { DriverError, type VolumeFilter, type VolumeInfo, type VolumeStore } from "@cnbp/core";
import { DRIVER_NAME } from "./connection.js";
import { type Engine, engineError, messageOf, statusOf } from "./engine.js";

interface VolumeJson {
  Name: string;
  Labels?: Record<string, string> | null;
  CreatedAt?: string;
}

/** A volume in the daemon's disk usage: Size and RefCount are -1 when the daemon did not compute them. */
interface UsageJson {
  Name: string;
  UsageData?: { Size?: number; RefCount?: number } | null;
}

export class DockerVolumes implements VolumeStore {
  constructor(private readonly engine: () => Engine) {}

  async list(filter: VolumeFilter): Promise<VolumeInfo[]> {
    const engine = this.engine();
    const wanted = Object.entries(filter.labels);
    let volumes: VolumeJson[];
    let usage: Map<string, UsageJson["UsageData"]>;
    try {
      const listed = (await engine.docker.listVolumes({
        filters: { label: wanted.map(([k, v]) => `${k}=${v}`) },
      })) as { Volumes?: VolumeJson[] | null };
      volumes = (listed.Volumes ?? []).filter((v) => wanted.every(([k, value]) => v.Labels?.[k] === value));
      if (volumes.length === 0) return [];
      // one disk usage call tells every volume's size and how many containers (running or not) refer to it
      const df = (await engine.docker.df()) as { Volumes?: UsageJson[] | null };
      usage = new Map((df.Volumes ?? []).map((u) => [u.Name, u.UsageData]));
    } catch (err) {
      throw engineError(engine, "volumes.list", err);
    }
    return volumes.map((v) => {
      const u = usage.get(v.Name);
      return {
        name: v.Name,
        labels: v.Labels ?? {},
        ...(v.CreatedAt ? { createdAt: new Date(v.CreatedAt).toISOString() } : {}),
        ...(u?.Size !== undefined && u.Size >= 0 ? { sizeBytes: u.Size } : {}),
        ...(u?.RefCount !== undefined && u.RefCount >= 0 ? { inUse: u.RefCount > 0 } : {}),
      };
    });
  }

  async remove(name: string): Promise<void> {
    const engine = this.engine();
    try {
      await engine.docker.getVolume(name).remove();
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return;
      if (status === 409)
        throw new DriverError("CNBP_VOLUME_IN_USE", DRIVER_NAME, "volumes.remove", messageOf(err), {
          cause: err,
        });
      throw engineError(engine, "volumes.remove", err);
    }
  }
}
