/**
 * CNB API versions ("0.10", "1"): `<major>.<minor>` or `<major>` meaning `<major>.0`.
 * Compared as integer pairs, never as strings or floats ("0.10" is newer than "0.9").
 */
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

const API_VERSION = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

export function isApiVersion(text: string): boolean {
  return API_VERSION.test(text);
}

/** Parses an API version; undefined when `text` is not one. */
export function parseApiVersion(text: string): ApiVersion | undefined {
  const m = API_VERSION.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0) };
}

export function apiVersion(text: string): ApiVersion {
  const v = parseApiVersion(text);
  if (!v) throw new TypeError(`"${text}" is not an API version (<major>.<minor>, e.g. "0.10")`);
  return v;
}

export function compareApi(a: ApiVersion | string, b: ApiVersion | string): number {
  const x = typeof a === "string" ? apiVersion(a) : a;
  const y = typeof b === "string" ? apiVersion(b) : b;
  return x.major - y.major || x.minor - y.minor;
}

/** True when `v` is at least `min`: `apiAtLeast("0.10", "0.9")`. */
export function apiAtLeast(v: ApiVersion | string, min: ApiVersion | string): boolean {
  return compareApi(v, min) >= 0;
}

export function formatApi(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

/**
 * Whether `wanted` is within a `supported` list as lifecycle.toml means it: an entry `x.n` with x >= 1
 * covers `x.0` to `x.n` (one major keeps compatibility); with x = 0 only the exact version matches.
 */
export function apiSupported(wanted: ApiVersion | string, supported: readonly string[]): boolean {
  const w = typeof wanted === "string" ? parseApiVersion(wanted) : wanted;
  if (!w) return false;
  return supported.some((s) => {
    const v = parseApiVersion(s);
    if (!v) return false;
    if (v.major === 0) return w.major === 0 && w.minor === v.minor;
    return w.major === v.major && w.minor <= v.minor;
  });
}

/** The highest version both sides support, for Platform API negotiation; undefined when none. */
export function negotiateApi(ours: readonly string[], theirs: readonly string[]): string | undefined {
  const common = ours.filter((v) => apiSupported(v, theirs));
  common.sort(compareApi);
  return common.at(-1);
}
