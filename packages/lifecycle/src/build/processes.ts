/**
 * The image's processes, merged across the group (shared/spec/buildpack.md 5 step 7): by type, a later
 * buildpack's process replacing an earlier one. A `default = true` process makes its type the default; a later
 * process of that type that is not marked default takes the default away, with a warning.
 */
import type { BuildpackProcess } from "./outputs.js";

export class ProcessMerger {
  private readonly byType = new Map<string, BuildpackProcess>();
  private defaultTypeSoFar: string | undefined;

  /** Adds one buildpack's processes; returns the warning to log, if its processes cleared the default. */
  add(processes: readonly BuildpackProcess[]): string | undefined {
    let warning: string | undefined;
    for (const p of processes) {
      if (p.default) {
        this.defaultTypeSoFar = p.type;
        warning = undefined;
      } else if (p.type === this.defaultTypeSoFar) {
        this.defaultTypeSoFar = undefined;
        warning = `redefining the following default process type with a process not marked as default: ${p.type}`;
      }
      this.byType.set(p.type, p);
    }
    return warning;
  }

  get defaultType(): string | undefined {
    return this.defaultTypeSoFar;
  }

  /** Every process, sorted by type (byte order, as Go sorts), for reproducible metadata. */
  list(): BuildpackProcess[] {
    return [...this.byType.keys()]
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((type) => this.byType.get(type) as BuildpackProcess);
  }
}
