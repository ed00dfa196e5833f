/**
 * The line of a field in TOML text, so that problems found after parsing (a schema error, an order entry
 * that names no buildpack) can say where to look: `builder.toml:12: order[0].group[1].id ...`. A line scan
 * that follows `[table]` and `[[array-of-tables]]` headers and `key =` lines; inline tables and arrays are
 * located by the key that holds them.
 */
type Path = readonly (string | number)[];

const key = (path: Path) => JSON.stringify(path);

function splitDotted(text: string): string[] {
  return (text.match(/"(?:[^"\\]|\\.)*"|'[^']*'|[^.\s]+/g) ?? []).map((k) =>
    k.startsWith('"') ? (JSON.parse(k) as string) : k.replace(/^'|'$/g, ""),
  );
}

/** The 1-based line where `path` (or the nearest table or key holding it) is written; undefined if nowhere. */
export function tomlLineOf(text: string, path: Path): number | undefined {
  const lines = new Map<string, number>();
  const arrays = new Map<string, number>();
  let table: (string | number)[] = [];
  // a header's dotted keys, with the current index of every array of tables they pass through
  const concrete = (keys: string[]) => {
    const out: (string | number)[] = [];
    for (const k of keys) {
      out.push(k);
      const n = arrays.get(key(out));
      if (n !== undefined) out.push(n);
    }
    return out;
  };
  text.split(/\r?\n/).forEach((line, i) => {
    const arrayHeader = /^\s*\[\[\s*(.+?)\s*\]\]/.exec(line);
    const tableHeader = arrayHeader ? undefined : /^\s*\[\s*(.+?)\s*\]/.exec(line);
    const assignment = /^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+|\s)+?)\s*=/.exec(line);
    if (arrayHeader?.[1]) {
      const keys = splitDotted(arrayHeader[1]);
      const parent = concrete(keys.slice(0, -1));
      const at = [...parent, keys.at(-1) as string];
      const n = (arrays.get(key(at)) ?? -1) + 1;
      arrays.set(key(at), n);
      table = [...at, n];
      if (!lines.has(key(at))) lines.set(key(at), i + 1);
      lines.set(key(table), i + 1);
    } else if (tableHeader?.[1]) {
      table = concrete(splitDotted(tableHeader[1]));
      if (!lines.has(key(table))) lines.set(key(table), i + 1);
    } else if (assignment?.[1]) {
      const at = [...table, ...splitDotted(assignment[1])];
      if (!lines.has(key(at))) lines.set(key(at), i + 1);
    }
  });
  for (let n = path.length; n > 0; n--) {
    const line = lines.get(key(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}
