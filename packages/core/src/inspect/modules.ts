/** What inspect shows of a buildpack or extension, and of a target, whichever label it comes from. */

export interface ModuleSummary {
  readonly id: string;
  readonly version: string;
  readonly name?: string;
  readonly homepage?: string;
}

export interface TargetSummary {
  readonly os?: string;
  readonly arch?: string;
  readonly variant?: string;
  readonly distros: readonly { readonly name?: string; readonly version?: string }[];
}

/** Only the fields inspect shows, absent ones left out. */
export function moduleSummary(m: {
  id: string;
  version?: string | undefined;
  name?: string | undefined;
  homepage?: string | undefined;
}): ModuleSummary {
  return {
    id: m.id,
    version: m.version ?? "",
    ...(m.name ? { name: m.name } : {}),
    ...(m.homepage ? { homepage: m.homepage } : {}),
  };
}

/** A target as the labels spell it (`variant`, or the Go lifecycle's `arch-variant`). */
export function targetSummary(t: {
  os?: string | undefined;
  arch?: string | undefined;
  variant?: string | undefined;
  "arch-variant"?: string | undefined;
  distros?: readonly { name?: string | undefined; version?: string | undefined }[] | undefined;
}): TargetSummary {
  const variant = t.variant ?? t["arch-variant"];
  return {
    ...(t.os ? { os: t.os } : {}),
    ...(t.arch ? { arch: t.arch } : {}),
    ...(variant ? { variant } : {}),
    distros: (t.distros ?? []).map((d) => ({
      ...(d.name ? { name: d.name } : {}),
      ...(d.version ? { version: d.version } : {}),
    })),
  };
}
