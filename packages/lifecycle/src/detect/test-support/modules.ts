/**
 * Real modules for detection tests: `buildpack.toml`/`extension.toml` and executable `#!/bin/sh` scripts in a
 * temp dir that the build user (uid 1000) can read, and an `out/` dir it can write, where each detect records
 * that it ran.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { escapeId, type ModuleKind } from "../../modules/store.js";

export interface ModuleSpec {
  readonly kind?: ModuleKind;
  readonly id: string;
  readonly version?: string;
  readonly api?: string;
  /** Body of bin/detect after the shebang; undefined: exit 0 (an extension gets no bin/detect). */
  readonly detect?: string;
  /** More TOML after the descriptor's `[buildpack]`/`[extension]` table (targets, order, ...). */
  readonly toml?: string;
  /** Lines in the `[buildpack]`/`[extension]` table (homepage, clear-env, exec-env). */
  readonly info?: string;
}

/** A detect script that records its run in `<out>/ran`, writes `plan` to its plan file and exits `code`. */
export function detectScript(out: string, id: string, code = 0, plan = ""): string {
  const writePlan = plan ? `cat > "$2" <<'PLAN'\n${plan}\nPLAN\n` : "";
  return `echo "${id}" >> "${out}/ran"\n${writePlan}exit ${code}\n`;
}

export async function writeModule(roots: { buildpacks: string; extensions: string }, spec: ModuleSpec) {
  const kind = spec.kind ?? "buildpack";
  const version = spec.version ?? "1.0.0";
  const dir = join(kind === "buildpack" ? roots.buildpacks : roots.extensions, escapeId(spec.id), version);
  await mkdir(join(dir, "bin"), { recursive: true });
  const info = [`id = "${spec.id}"`, `version = "${version}"`, ...(spec.info ? [spec.info] : [])].join("\n");
  await writeFile(
    join(dir, `${kind}.toml`),
    `api = "${spec.api ?? "0.12"}"\n[${kind}]\n${info}\n${spec.toml ?? ""}`,
  );
  const composite = spec.toml?.includes("[[order]]");
  if (kind === "buildpack" && !composite) {
    await script(join(dir, "bin", "detect"), spec.detect ?? "exit 0\n");
    await script(join(dir, "bin", "build"), "exit 0\n");
  }
  if (kind === "extension" && spec.detect !== undefined)
    await script(join(dir, "bin", "detect"), spec.detect);
  return dir;
}

async function script(path: string, body: string) {
  await writeFile(path, `#!/bin/sh\n${body}`);
  await chmod(path, 0o755);
}

/** `[[order]]` TOML (for order.toml or a composite buildpack.toml) from groups of `id@version` (`?` = optional). */
export function orderToml(groups: readonly (readonly string[])[], table = "order"): string {
  return groups
    .map(
      (g) =>
        `[[${table}]]\n${g
          .map((ref) => {
            const optional = ref.endsWith("?");
            const [id, version] = (optional ? ref.slice(0, -1) : ref).split("@");
            return `  [[${table}.group]]\n  id = "${id}"\n  version = "${version ?? "1.0.0"}"\n${optional ? "  optional = true\n" : ""}`;
          })
          .join("")}`,
    )
    .join("\n");
}
