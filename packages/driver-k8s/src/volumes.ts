/** The PVCs cnbp made (caches that outlive builds), found by the labels kept in their annotation. */
import { DriverError, type VolumeFilter, type VolumeInfo, type VolumeStore } from "@cnbp/core";
import { type Cluster, isNotFound } from "./cluster.js";
import { DRIVER_NAME, LABELS_ANNOTATION, MANAGED_BY } from "./names.js";

const SELECTOR = Object.entries(MANAGED_BY)
  .map(([k, v]) => `${k}=${v}`)
  .join(",");

export class K8sVolumes implements VolumeStore {
  constructor(private readonly cluster: Cluster) {}

  async list(filter: VolumeFilter): Promise<VolumeInfo[]> {
    const { namespace } = this.cluster;
    let claims: Awaited<ReturnType<Cluster["core"]["listNamespacedPersistentVolumeClaim"]>>;
    let pods: Awaited<ReturnType<Cluster["core"]["listNamespacedPod"]>>;
    try {
      claims = await this.cluster.core.listNamespacedPersistentVolumeClaim({
        namespace,
        labelSelector: SELECTOR,
      });
      pods = await this.cluster.core.listNamespacedPod({ namespace });
    } catch (err) {
      throw this.cluster.fail("volumes.list", err, "CNBP_DRIVER_UNAVAILABLE");
    }
    const used = new Set(
      pods.items.flatMap((p) => (p.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName)),
    );
    return claims.items.flatMap((c) => {
      const labels = JSON.parse(c.metadata?.annotations?.[LABELS_ANNOTATION] ?? "{}") as Record<
        string,
        string
      >;
      if (!Object.entries(filter.labels).every(([k, v]) => labels[k] === v)) return [];
      const name = c.metadata?.name ?? "";
      const created = c.metadata?.creationTimestamp;
      return [
        {
          name,
          labels,
          ...(created ? { createdAt: new Date(created).toISOString() } : {}),
          inUse: used.has(name),
        },
      ];
    });
  }

  async remove(name: string): Promise<void> {
    const { namespace } = this.cluster;
    try {
      const pods = await this.cluster.core.listNamespacedPod({ namespace });
      const users = pods.items.filter((p) =>
        (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name),
      );
      if (users.length > 0)
        throw new DriverError(
          "CNBP_VOLUME_IN_USE",
          DRIVER_NAME,
          "volumes.remove",
          `the PVC ${name} is used by the Pod ${users[0]?.metadata?.name}`,
          {
            hints: ["wait for the build using it to end"],
          },
        );
      await this.cluster.core.deleteNamespacedPersistentVolumeClaim({ name, namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.cluster.fail("volumes.remove", err);
    }
  }
}
