/** Pieces of the human view `builder inspect` and `buildpack inspect` share: module tables, order trees, targets. */
import type { DetectionGroup, IndexSummary, ModuleSummary, TargetSummary } from "@cnbp/core";

export const NONE = "(none)";

/** Columns padded to their widest cell plus a gap, each row indented, no trailing spaces. */
export function table(rows: readonly (readonly string[])[], indent = "  ", gap = 4): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length))) ?? [];
  return rows.map((r) =>
    `${indent}${r.map((cell, col) => cell.padEnd((widths[col] ?? 0) + gap)).join("")}`.trimEnd(),
  );
}

/** A section of modules: `ID NAME VERSION HOMEPAGE`, `-` for what a module does not say. */
export function moduleTable(modules: readonly ModuleSummary[]): string[] {
  if (modules.length === 0) return [`  ${NONE}`];
  return table([
    ["ID", "NAME", "VERSION", "HOMEPAGE"],
    ...modules.map((m) => [m.id, m.name ?? "-", m.version, m.homepage ?? "-"]),
  ]);
}

const BRANCH = " ├ ";
const LAST = " └ ";
const TRUNK = " │ ";
const SPACE = "   ";

/** A detection order as a tree: groups numbered, composites' own orders under them, markers aligned. */
export function orderTree(order: readonly DetectionGroup[]): string[] {
  if (order.length === 0) return [`  ${NONE}`];
  const lines: [string, string][] = [];
  const walk = (groups: readonly DetectionGroup[], prefix: string) => {
    groups.forEach((g, gi) => {
      const lastGroup = gi === groups.length - 1;
      lines.push([`${prefix}${lastGroup ? LAST : BRANCH}Group #${gi + 1}:`, ""]);
      const inGroup = prefix + (lastGroup ? SPACE : TRUNK);
      g.group.forEach((e, ei) => {
        const last = ei === g.group.length - 1;
        const markers = [e.optional ? "(optional)" : "", e.cyclic ? "[cyclic]" : ""].filter(Boolean);
        lines.push([
          `${inGroup}${last ? LAST : BRANCH}${e.id}${e.version ? `@${e.version}` : ""}`,
          markers.join(" "),
        ]);
        if (e.order) walk(e.order, inGroup + (last ? SPACE : TRUNK));
      });
    });
  };
  walk(order, "");
  const width = Math.max(...lines.map(([text]) => text.length));
  return lines.map(([text, marker]) => (marker ? `${text.padEnd(width + 4)}${marker}` : text));
}

/** `linux/amd64/v8 (debian 12)`; `*` for what the target leaves open. */
export function targetText(t: TargetSummary): string {
  const platform = [t.os ?? "*", t.arch ?? "*", ...(t.variant ? [t.variant] : [])].join("/");
  const distros = t.distros.map((d) => [d.name ?? "*", d.version].filter(Boolean).join(" "));
  return distros.length ? `${platform} (${distros.join(", ")})` : platform;
}

/** Of an image index, a section listing every image's target, the one shown (`--platform`) marked. */
export function indexSection(index: IndexSummary | undefined): string[][] {
  if (!index) return [];
  const shown = targetText(index.shown);
  const rows = index.targets.map((t) => [targetText(t), targetText(t) === shown ? "(shown)" : ""]);
  return [["Image Index:", ...table(rows)]];
}
