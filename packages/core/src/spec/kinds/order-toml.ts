/** order.toml: the buildpack and extension groups the detector tries, in order (files.md 1.1). */
import { z } from "zod";
import { apiAtLeast } from "../api-version.js";
import type { FileKind, Finding } from "../file-kind.js";
import { groupEntry, versionRef } from "../schema.js";

/** Unlike composite buildpacks and builder.toml, order.toml requires a version on every entry. */
const orderEntry = groupEntry.extend({ version: versionRef });

const order = z.array(z.looseObject({ group: z.array(orderEntry).min(1) }));

const schema = z.looseObject({
  order: order.optional(),
  "order-extensions": order.optional(),
});

export type OrderFile = z.infer<typeof schema>;

export const orderToml: FileKind<OrderFile> = {
  name: "order.toml",
  fileNames: ["order.toml"],
  format: "toml",
  summary: "the buildpack (and extension) groups the detector tries, in order",
  schema,
  check(file, ctx) {
    const api = ctx.platformApi ?? "0.15";
    const findings: Finding[] = [];
    if (!file.order?.length) {
      findings.push({
        path: ["order"],
        message: "is empty: detection has no group to try",
        severity: "warning",
      });
    }
    const extensions = file["order-extensions"];
    if (extensions && !apiAtLeast(api, "0.10")) {
      findings.push({
        path: ["order-extensions"],
        message: "needs Platform API 0.10 or newer",
        severity: "warning",
      });
    }
    for (const [i, group] of (extensions ?? []).entries()) {
      for (const [j, entry] of group.group.entries()) {
        if (entry.optional === false) {
          findings.push({
            path: ["order-extensions", i, "group", j, "optional"],
            message: "is ignored: extensions are always optional",
            severity: "warning",
          });
        }
      }
    }
    return findings;
  },
};
